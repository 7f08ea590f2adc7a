package io.kvcache.core.tokenizer;

import io.kvcache.core.ModelFormatException;
import tools.jackson.databind.JsonNode;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A tokenizer.json "normalizer": rewrites text before pre-tokenization. */
final class HfNormalizer {
    private final UnaryOperator<String> function;

    private HfNormalizer(UnaryOperator<String> function) {
        this.function = function;
    }

    String apply(String text) {
        return function.apply(text);
    }

    /** Supports Sequence, Prepend, Replace, Lowercase and the NFC/NFD/NFKC/NFKD forms; null means none. */
    static HfNormalizer fromJson(JsonNode node) {
        return new HfNormalizer(function(node));
    }

    private static UnaryOperator<String> function(JsonNode node) {
        if (node == null || node.isNull()) {
            return UnaryOperator.identity();
        }
        String type = node.path("type").asString("");
        return switch (type) {
            case "Sequence" -> {
                List<UnaryOperator<String>> steps = new ArrayList<>();
                node.path("normalizers").values().forEach(step -> steps.add(function(step)));
                yield text -> {
                    for (UnaryOperator<String> step : steps) {
                        text = step.apply(text);
                    }
                    return text;
                };
            }
            case "Prepend" -> {
                String prefix = node.path("prepend").asString();
                yield text -> text.isEmpty() ? text : prefix + text;
            }
            case "Replace" -> {
                Pattern pattern = HfPatterns.compile(node.path("pattern"));
                String content = Matcher.quoteReplacement(node.path("content").asString());
                yield text -> pattern.matcher(text).replaceAll(content);
            }
            case "Lowercase" -> text -> text.toLowerCase(Locale.ROOT);
            case "NFC" -> text -> Normalizer.normalize(text, Normalizer.Form.NFC);
            case "NFD" -> text -> Normalizer.normalize(text, Normalizer.Form.NFD);
            case "NFKC" -> text -> Normalizer.normalize(text, Normalizer.Form.NFKC);
            case "NFKD" -> text -> Normalizer.normalize(text, Normalizer.Form.NFKD);
            default -> throw new ModelFormatException("tokenizer.json: unsupported normalizer '" + type
                    + "' (supported: Sequence, Prepend, Replace, Lowercase, NFC, NFD, NFKC, NFKD)");
        };
    }
}
