package io.kvcache.core.tokenizer;

import io.kvcache.core.ModelFormatException;
import io.kvcache.core.UntrustedText;
import tools.jackson.databind.JsonNode;


/** The {"String": ...} / {"Regex": ...} patterns of tokenizer.json. */
final class HuggingFacePatterns {
    private HuggingFacePatterns() {
    }

    /**
     * A literal or a regex; regexes get Unicode semantics for \s, \w and friends, as the Oniguruma
     * regexes HF tokenizers run have, and run in linear time ({@link LinearRegex}).
     */
    static LinearRegex compile(JsonNode pattern) {
        if (pattern.has("String")) {
            return LinearRegex.literal(pattern.get("String").asString());
        }
        if (pattern.has("Regex")) {
            return LinearRegex.compile(pattern.get("Regex").asString());
        }
        throw new ModelFormatException("tokenizer.json: pattern " + UntrustedText.quote(pattern.toString()) + " is neither {\"String\"} nor {\"Regex\"}");
    }
}
