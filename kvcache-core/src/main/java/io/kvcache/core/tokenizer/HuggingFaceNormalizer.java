package io.kvcache.core.tokenizer;

import io.kvcache.core.ModelFormatException;
import io.kvcache.core.UntrustedText;
import tools.jackson.databind.JsonNode;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** A tokenizer.json "normalizer": rewrites text before pre-tokenization. */
final class HuggingFaceNormalizer {
    /** One normalizer; {@code start}: where the text begins (a Prepend does not apply to a continuation). */
    private interface Step {
        String apply(String text, TextStart start);
    }

    private final Step step;

    private HuggingFaceNormalizer(Step step) {
        this.step = step;
    }

    String apply(String text, TextStart start) {
        return step.apply(text, start);
    }

    /** Supports Sequence, Prepend, Replace, Lowercase and the NFC/NFD/NFKC/NFKD forms; null means none. */
    static HuggingFaceNormalizer fromJson(JsonNode node) {
        return new HuggingFaceNormalizer(step(node));
    }

    private static Step step(JsonNode node) {
        if (node == null || node.isNull()) {
            return (text, start) -> text;
        }
        String type = node.path("type").asString("");
        return switch (type) {
            case "Sequence" -> {
                List<Step> steps = new ArrayList<>();
                node.path("normalizers").values().forEach(s -> steps.add(step(s)));
                yield (text, start) -> {
                    for (Step s : steps) {
                        text = s.apply(text, start);
                    }
                    return text;
                };
            }
            case "Prepend" -> {
                String prefix = node.path("prepend").asString();
                yield (text, start) -> text.isEmpty() || start == TextStart.CONTINUATION ? text : prefix + text;
            }
            case "Replace" -> {
                LinearRegex pattern = HuggingFacePatterns.compile(node.path("pattern"));
                String content = node.path("content").asString();
                yield (text, start) -> pattern.replaceAll(text, content);
            }
            case "Lowercase" -> (text, start) -> text.toLowerCase(Locale.ROOT);
            case "NFC" -> (text, start) -> Normalizer.normalize(text, Normalizer.Form.NFC);
            case "NFD" -> (text, start) -> Normalizer.normalize(text, Normalizer.Form.NFD);
            case "NFKC" -> (text, start) -> Normalizer.normalize(text, Normalizer.Form.NFKC);
            case "NFKD" -> (text, start) -> Normalizer.normalize(text, Normalizer.Form.NFKD);
            default -> throw new ModelFormatException("tokenizer.json: unsupported normalizer '" + UntrustedText.quote(type)
                    + "' (supported: Sequence, Prepend, Replace, Lowercase, NFC, NFD, NFKC, NFKD)");
        };
    }
}
