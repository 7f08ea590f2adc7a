package io.kvcache.core.tokenizer;

import io.kvcache.core.ModelFormatException;
import io.kvcache.core.UntrustedText;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/** Builds a {@link HuggingFaceTokenizer} from a model folder's tokenizer.json and tokenizer_config.json. */
final class HuggingFaceTokenizerReader {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Pattern BYTE_TOKEN = Pattern.compile("<0x[0-9A-Fa-f]{2}>");

    private HuggingFaceTokenizerReader() {
    }

    /**
     * @throws ModelFormatException when a file is missing, not JSON, or holds a value of the wrong
     *                              type where a string, number or object is needed
     */
    static Tokenizer read(Path folder) {
        try {
            return parse(folder);
        } catch (JacksonException e) {
            // A tokenizer.json value of the wrong JSON type, found where it is read.
            throw new ModelFormatException(folder.resolve("tokenizer.json") + ": a value has the wrong type: "
                    + UntrustedText.quote(e.getOriginalMessage()), e);
        }
    }

    private static Tokenizer parse(Path folder) {
        Path file = folder.resolve("tokenizer.json");
        JsonNode root = readJson(file).orElseThrow(() -> new ModelFormatException(file + ": no tokenizer.json in " + folder));
        JsonNode config = readJson(folder.resolve("tokenizer_config.json")).orElse(JSON.missingNode());
        JsonNode model = root.path("model");
        String modelType = model.path("type").asString("BPE");
        if (!modelType.equals("BPE")) {
            throw new ModelFormatException(file + ": unsupported model type '" + UntrustedText.quote(modelType) + "' (supported: BPE)");
        }
        for (String affix : new String[] {"continuing_subword_prefix", "end_of_word_suffix"}) {
            if (!model.path(affix).asString("").isEmpty()) {
                throw new ModelFormatException(file + ": BPE " + affix + " is not supported");
            }
        }
        boolean byteFallback = model.path("byte_fallback").asBoolean(false);
        String unk = model.path("unk_token").isString() ? model.path("unk_token").asString() : null;

        JsonNode added = root.path("added_tokens");
        // Ids size the vocabulary arrays, so each is checked first: an id of 2e9 would ask for gigabytes.
        int size = 0;
        for (Map.Entry<String, JsonNode> entry : model.path("vocab").properties()) {
            size = Math.max(size, id(entry.getValue(), file, entry.getKey()) + 1);
        }
        for (JsonNode token : added.values()) {
            if (!token.path("content").isString()) {
                throw new ModelFormatException(file + ": an added token has no text content: "
                        + UntrustedText.quote(token.toString()));
            }
            size = Math.max(size, id(token.path("id"), file, token.path("content").asString()) + 1);
        }
        String[] texts = new String[size];
        TokenType[] types = new TokenType[size];
        for (Map.Entry<String, JsonNode> entry : model.path("vocab").properties()) {
            int id = entry.getValue().asInt();
            texts[id] = entry.getKey();
            types[id] = entry.getKey().equals(unk) ? TokenType.UNKNOWN
                    : byteFallback && BYTE_TOKEN.matcher(entry.getKey()).matches() ? TokenType.BYTE : TokenType.NORMAL;
        }
        BitSet normalizedAdded = new BitSet(size);
        BitSet rawAdded = new BitSet(size);
        BitSet lstrip = new BitSet(size);
        BitSet rstrip = new BitSet(size);
        for (JsonNode token : added.values()) {
            int id = token.path("id").asInt();
            boolean special = token.path("special").asBoolean(false);
            texts[id] = token.path("content").asString();
            if (types[id] != TokenType.UNKNOWN) {
                types[id] = special ? TokenType.CONTROL : TokenType.USER_DEFINED;
            }
            (token.path("normalized").asBoolean(!special) ? normalizedAdded : rawAdded).set(id);
            lstrip.set(id, token.path("lstrip").asBoolean(false));
            rstrip.set(id, token.path("rstrip").asBoolean(false));
        }
        for (int id = 0; id < size; id++) {
            if (texts[id] == null) {
                texts[id] = "[PAD" + id + "]"; // an id neither in the vocab nor added, named as llama.cpp's converter does
                types[id] = TokenType.UNUSED;
            }
        }
        Vocabulary vocabulary = new Vocabulary(file.toString(), texts, types, new float[size]);
        BpeMerges merges = BpeMerges.fromPairs(model.path("merges").values().stream()
                .map(m -> merge(m, file))
                .toArray(String[]::new));
        HuggingFacePreTokenizer preTokenizer = HuggingFacePreTokenizer.fromJson(root.get("pre_tokenizer"));
        boolean byteLevel = preTokenizer.isByteLevel() || mentionsType(root.path("decoder"), "ByteLevel");
        return new HuggingFaceTokenizer(vocabulary, specials(folder, root, config, vocabulary),
                byteLevel ? TokenPieces.byteLevel(vocabulary) : TokenPieces.sentencePiece(vocabulary),
                new SpecialTokenSplitter(vocabulary, rawAdded.stream().toArray(), lstrip, rstrip),
                HuggingFaceNormalizer.fromJson(root.get("normalizer")),
                new SpecialTokenSplitter(vocabulary, normalizedAdded.stream().toArray(), lstrip, rstrip),
                preTokenizer,
                new HuggingFaceBpeModel(vocabulary, merges, byteFallback, model.path("ignore_merges").asBoolean(false)));
    }

    /** A token id in the vocabulary's range. */
    private static int id(JsonNode id, Path file, String token) {
        if (!id.isIntegralNumber() || !id.canConvertToInt() || id.asInt() < 0 || id.asInt() >= Tokenizers.MAX_VOCABULARY) {
            throw new ModelFormatException(file + ": token '" + UntrustedText.quote(token) + "' has id "
                    + UntrustedText.quote(id.toString()) + ", expected an integer from 0 to " + (Tokenizers.MAX_VOCABULARY - 1));
        }
        return id.asInt();
    }

    /** A merge rule, "left right" or ["left", "right"]. */
    private static String merge(JsonNode merge, Path file) {
        if (merge.isString()) {
            return merge.asString();
        }
        if (merge.isArray() && merge.size() == 2 && merge.get(0).isString() && merge.get(1).isString()) {
            return merge.get(0).asString() + " " + merge.get(1).asString();
        }
        throw new ModelFormatException(file + ": merge rule " + UntrustedText.quote(merge.toString())
                + " is neither \"left right\" nor [\"left\", \"right\"]");
    }

    /**
     * BOS/EOS from tokenizer_config.json (bos_token, eos_token, add_bos_token, add_eos_token), falling
     * back to the special tokens the post_processor template puts first / last. End of generation:
     * EOS, generation_config.json's eos_token_id(s) and the usual end markers.
     */
    private static SpecialTokens specials(Path folder, JsonNode root, JsonNode config, Vocabulary vocabulary) {
        JsonNode template = root.path("post_processor").path("single");
        if (!root.path("post_processor").path("type").asString("").equals("TemplateProcessing")) {
            template = JSON.missingNode();
        }
        OptionalInt templateFirst = templateSpecial(template.path(0), root, vocabulary);
        OptionalInt templateLast = templateSpecial(template.path(template.size() - 1), root, vocabulary);
        int bos = tokenId(config.path("bos_token"), vocabulary).orElse(templateFirst.orElse(-1));
        int eos = tokenId(config.path("eos_token"), vocabulary).orElse(templateLast.orElse(-1));
        boolean addBos = flag(config.path("add_bos_token"), templateFirst.isPresent()) && bos >= 0;
        boolean addEos = flag(config.path("add_eos_token"), templateLast.isPresent()) && eos >= 0;

        BitSet endOfGeneration = new BitSet(vocabulary.size());
        IntStream.range(0, vocabulary.size()).filter(id -> EndOfGeneration.isMarker(vocabulary.text(id)))
                .forEach(endOfGeneration::set);
        if (eos >= 0) {
            endOfGeneration.set(eos);
        }
        JsonNode generationEos = readJson(folder.resolve("generation_config.json")).orElse(JSON.missingNode()).path("eos_token_id");
        (generationEos.isArray() ? generationEos.values().stream() : Stream.of(generationEos))
                .filter(JsonNode::isIntegralNumber).mapToInt(JsonNode::asInt)
                .filter(vocabulary::contains).forEach(endOfGeneration::set);
        return new SpecialTokens(bos, eos, addBos, addEos, endOfGeneration);
    }

    /** A boolean setting; absent or null means {@code fallback}. */
    private static boolean flag(JsonNode node, boolean fallback) {
        return node.isBoolean() ? node.booleanValue() : fallback;
    }

    /** A token given as "text" or {"content": "text"}. */
    private static OptionalInt tokenId(JsonNode token, Vocabulary vocabulary) {
        String text = token.isString() ? token.asString() : token.path("content").asString(null);
        int id = text == null ? -1 : vocabulary.id(text);
        return id >= 0 ? OptionalInt.of(id) : OptionalInt.empty();
    }

    private static OptionalInt templateSpecial(JsonNode piece, JsonNode root, Vocabulary vocabulary) {
        JsonNode special = piece.path("SpecialToken");
        if (special.isMissingNode()) {
            return OptionalInt.empty();
        }
        JsonNode ids = root.path("post_processor").path("special_tokens").path(special.path("id").asString()).path("ids");
        if (ids.size() == 1 && ids.get(0).canConvertToInt() && vocabulary.contains(ids.get(0).asInt())) {
            return OptionalInt.of(ids.get(0).asInt());
        }
        return tokenId(special.path("id"), vocabulary);
    }

    private static boolean mentionsType(JsonNode node, String type) {
        if (node.isObject() && type.equals(node.path("type").asString(""))) {
            return true;
        }
        return node.values().stream().anyMatch(child -> mentionsType(child, type));
    }

    private static Optional<JsonNode> readJson(Path file) {
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        try {
            return Optional.of(JSON.readTree(file));
        } catch (JacksonException e) {
            throw new ModelFormatException(file + ": cannot read JSON: " + e.getOriginalMessage(), e);
        }
    }
}
