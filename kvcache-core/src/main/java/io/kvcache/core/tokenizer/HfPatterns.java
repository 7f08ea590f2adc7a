package io.kvcache.core.tokenizer;

import io.kvcache.core.ModelFormatException;
import tools.jackson.databind.JsonNode;

import java.util.regex.Pattern;

/** The {"String": ...} / {"Regex": ...} patterns of tokenizer.json. */
final class HfPatterns {
    private HfPatterns() {
    }

    /**
     * A literal or a regex; regexes get Unicode semantics for \s, \w and friends, as the Oniguruma
     * regexes HF tokenizers run have.
     */
    static Pattern compile(JsonNode pattern) {
        if (pattern.has("String")) {
            return Pattern.compile(Pattern.quote(pattern.get("String").asString()));
        }
        if (pattern.has("Regex")) {
            return Pattern.compile(pattern.get("Regex").asString(), Pattern.UNICODE_CHARACTER_CLASS);
        }
        throw new ModelFormatException("tokenizer.json: pattern " + pattern + " is neither {\"String\"} nor {\"Regex\"}");
    }
}
