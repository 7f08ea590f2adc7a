package io.kvcache.core.tokenizer;

import io.kvcache.core.ModelFormatException;
import io.kvcache.core.UntrustedText;
import tools.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;

/**
 * A tokenizer.json "pre_tokenizer": cuts normalized text into the words the model encodes one by
 * one. Supports Sequence, Split, ByteLevel, Digits and Metaspace; null keeps the text whole.
 */
final class HuggingFacePreTokenizer {
    /** GPT-2's word regex, which ByteLevel applies when use_regex is set. */
    private static final LinearRegex GPT2_WORDS = LinearRegex.compile(
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+");

    /** One pre-tokenizer; {@code start}: where the first of the words begins (it decides their prefix spaces). */
    private interface Step {
        List<String> apply(List<String> words, TextStart start);
    }

    private static final List<String> BEHAVIORS = List.of("Isolated", "Removed", "MergedWithPrevious", "MergedWithNext");

    private final Step step;
    private final boolean byteLevel;

    private HuggingFacePreTokenizer(Step step, boolean byteLevel) {
        this.step = step;
        this.byteLevel = byteLevel;
    }

    static HuggingFacePreTokenizer fromJson(JsonNode node) {
        boolean[] byteLevel = {false};
        Step step = step(node, byteLevel);
        return new HuggingFacePreTokenizer(step, byteLevel[0]);
    }

    /** Whether words come out in {@link ByteLevel} characters (and the vocabulary is byte-level). */
    boolean isByteLevel() {
        return byteLevel;
    }

    List<String> words(String text, TextStart start) {
        return step.apply(List.of(text), start);
    }

    private static Step step(JsonNode node, boolean[] byteLevel) {
        if (node == null || node.isNull()) {
            return (words, start) -> words;
        }
        String type = node.path("type").asString("");
        return switch (type) {
            case "Sequence" -> {
                List<Step> steps = new ArrayList<>();
                node.path("pretokenizers").values().forEach(s -> steps.add(step(s, byteLevel)));
                yield (words, start) -> {
                    for (Step s : steps) {
                        words = s.apply(words, start);
                    }
                    return words;
                };
            }
            case "Split" -> {
                if (node.path("invert").asBoolean(false)) {
                    throw new ModelFormatException("tokenizer.json: Split pre-tokenizer with invert=true is not supported");
                }
                LinearRegex pattern = HuggingFacePatterns.compile(node.path("pattern"));
                String behavior = node.path("behavior").asString("Isolated");
                if (!BEHAVIORS.contains(behavior)) {
                    throw new ModelFormatException("tokenizer.json: unsupported split behavior '"
                            + UntrustedText.quote(behavior) + "' (supported: " + BEHAVIORS + ")");
                }
                yield (words, start) -> split(words, pattern, behavior);
            }
            case "ByteLevel" -> {
                byteLevel[0] = true;
                boolean addPrefixSpace = node.path("add_prefix_space").asBoolean(false);
                boolean useRegex = node.path("use_regex").asBoolean(true);
                yield (words, start) -> {
                    List<String> spaced = new ArrayList<>(words.size());
                    for (int i = 0; i < words.size(); i++) {
                        String w = words.get(i);
                        boolean prefix = addPrefixSpace && !(start == TextStart.CONTINUATION && i == 0);
                        spaced.add(prefix && !w.startsWith(" ") ? " " + w : w);
                    }
                    List<String> split = useRegex ? split(spaced, GPT2_WORDS, "Isolated") : spaced;
                    return split.stream().map(ByteLevel::encode).toList();
                };
            }
            case "Digits" -> {
                LinearRegex digits = LinearRegex.compile(node.path("individual_digits").asBoolean(false) ? "\\p{Nd}" : "\\p{Nd}+");
                yield (words, start) -> split(words, digits, "Isolated");
            }
            case "Metaspace" -> {
                String replacement = node.path("replacement").asString("\u2581");
                String scheme = node.path("prepend_scheme").asString(node.path("add_prefix_space").asBoolean(true) ? "always" : "never");
                boolean splitWords = node.path("split").asBoolean(true);
                LinearRegex separator = LinearRegex.literal(replacement);
                yield (words, start) -> {
                    List<String> replaced = new ArrayList<>(words.size());
                    for (int i = 0; i < words.size(); i++) {
                        String w = words.get(i).replace(" ", replacement);
                        boolean prepend = (scheme.equals("always") && !(start == TextStart.CONTINUATION && i == 0))
                                || (scheme.equals("first") && start == TextStart.INPUT && i == 0);
                        replaced.add(prepend && !w.startsWith(replacement) ? replacement + w : w);
                    }
                    return splitWords ? split(replaced, separator, "MergedWithNext") : replaced;
                };
            }
            default -> throw new ModelFormatException("tokenizer.json: unsupported pre_tokenizer '" + UntrustedText.quote(type)
                    + "' (supported: Sequence, Split, ByteLevel, Digits, Metaspace)");
        };
    }

    /** HF's split with a delimiter behavior: Isolated, Removed, MergedWithPrevious or MergedWithNext. */
    private static List<String> split(List<String> words, LinearRegex pattern, String behavior) {
        List<String> out = new ArrayList<>();
        for (String word : words) {
            int[] last = {0};
            String[] pendingDelimiter = {""};
            pattern.forEachMatch(word, (start, end) -> {
                if (end == start) {
                    return;
                }
                String gap = word.substring(last[0], start);
                String match = word.substring(start, end);
                switch (behavior) {
                    case "Isolated" -> {
                        addIfNotEmpty(out, gap);
                        out.add(match);
                    }
                    case "MergedWithPrevious" -> out.add(gap + match);
                    case "MergedWithNext" -> {
                        addIfNotEmpty(out, pendingDelimiter[0] + gap);
                        pendingDelimiter[0] = match;
                    }
                    default -> addIfNotEmpty(out, gap); // "Removed"
                }
                last[0] = end;
            });
            addIfNotEmpty(out, pendingDelimiter[0] + word.substring(last[0]));
        }
        return out;
    }

    private static void addIfNotEmpty(List<String> out, String piece) {
        if (!piece.isEmpty()) {
            out.add(piece);
        }
    }
}
