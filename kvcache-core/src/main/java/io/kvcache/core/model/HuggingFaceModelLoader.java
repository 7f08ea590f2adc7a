package io.kvcache.core.model;

import io.kvcache.core.ModelFormatException;
import io.kvcache.core.UntrustedText;
import io.kvcache.core.format.SafetensorsFile;
import io.kvcache.core.tokenizer.Tokenizer;
import io.kvcache.core.tokenizer.Tokenizers;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Builds a {@link Model} from a Hugging Face folder: {@code config.json}, a single
 * {@code model.safetensors} (F32, F16 or BF16) and {@code tokenizer.json}. Hugging Face checkpoints
 * rotate q/k halves ("rotate_half"), so their RoPE style is {@link RopeStyle#HALVES} for every family.
 */
final class HuggingFaceModelLoader {
    private static final Map<String, Architecture> MODEL_TYPES =
            Map.of("llama", Architecture.LLAMA, "mistral", Architecture.LLAMA, "lckv-llama", Architecture.LLAMA,
                    "qwen2", Architecture.QWEN2, "qwen3", Architecture.QWEN3);

    private HuggingFaceModelLoader() {
    }

    /** @throws ModelFormatException for a missing file, invalid JSON or a value of the wrong JSON type */
    static Model load(Path folder) {
        try {
            return parse(folder);
        } catch (JacksonException e) {
            throw new ModelFormatException(folder + ": a value in config.json has the wrong type: "
                    + UntrustedText.quote(e.getOriginalMessage()), e);
        }
    }

    private static Model parse(Path folder) {
        JsonNode json = readConfig(folder.resolve("config.json"));
        String modelType = json.path("model_type").asString("");
        Architecture arch = MODEL_TYPES.get(modelType);
        if (arch == null) {
            throw new ModelFormatException(folder + ": config.json model_type '" + UntrustedText.quote(modelType)
                    + "' is not supported (supported: " + String.join(", ", MODEL_TYPES.keySet()) + ")");
        }
        if (!json.path("rope_scaling").isNull() && !json.path("rope_scaling").isMissingNode()) {
            throw new ModelFormatException(folder + ": config.json rope_scaling " + UntrustedText.quote(json.path("rope_scaling").toString())
                    + " is not supported");
        }
        String source = folder + "/config.json";
        // Checked before they divide or size anything; ModelChecks checks the whole shape below.
        int dim = ModelChecks.inRange(required(json, "hidden_size", folder), 1, ModelChecks.MAX_WIDTH, "embedding width", source);
        int heads = ModelChecks.inRange(required(json, "num_attention_heads", folder), 1, ModelChecks.MAX_HEADS, "head count", source);
        int headDim = json.path("head_dim").isMissingNode() || json.path("head_dim").isNull() ? dim / heads
                : required(json, "head_dim", folder);
        int layerCount = ModelChecks.inRange(required(json, "num_hidden_layers", folder), 1, ModelChecks.MAX_LAYERS, "layer count", source);
        JsonNode layerTypes = json.path("layer_types");
        List<Integer> kvLayers = layerTypes.isString()
                ? KvLayerTypes.parse(layerTypes.asString(), layerCount, folder + "/config.json")
                : java.util.stream.IntStream.range(0, layerCount).boxed().toList();
        ModelConfig config = new ModelConfig(
                folder.getFileName().toString(), arch, dim,
                layerCount, heads,
                json.path("num_key_value_heads").isIntegralNumber() ? required(json, "num_key_value_heads", folder) : heads,
                headDim, headDim,
                required(json, "intermediate_size", folder),
                required(json, "vocab_size", folder),
                required(json, "max_position_embeddings", folder),
                (float) json.path("rms_norm_eps").asDouble(1e-6),
                (float) json.path("rope_theta").asDouble(10000),
                headDim, RopeStyle.HALVES, kvLayers);
        ModelChecks.validate(config, folder.toString());

        Path weightsFile = folder.resolve("model.safetensors");
        if (!Files.isRegularFile(weightsFile)) {
            throw new ModelFormatException(folder + ": model.safetensors is missing (sharded checkpoints are not supported)");
        }
        SafetensorsFile file = SafetensorsFile.open(weightsFile);
        try {
            ModelWeights weights = new ModelWeightsReader(file, TensorNames.HUGGING_FACE).read(config);
            Tokenizer tokenizer = Tokenizers.fromHuggingFace(folder);
            ModelChecks.validate(config, tokenizer, folder.toString());
            return new Model(folder, config, weights, tokenizer, HuggingFaceChatTemplate.read(folder), file);
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    private static JsonNode readConfig(Path path) {
        if (!Files.isRegularFile(path)) {
            throw new ModelFormatException(path.getParent() + ": not a model folder (config.json is missing)");
        }
        try {
            return JsonMapper.shared().readTree(path.toFile());
        } catch (JacksonException e) {
            throw new ModelFormatException(path + ": not valid JSON: " + e.getOriginalMessage(), e);
        }
    }

    private static int required(JsonNode json, String field, Path folder) {
        JsonNode node = json.path(field);
        if (!node.isIntegralNumber()) {
            throw new ModelFormatException(folder + ": config.json lacks the integer '" + field + "'");
        }
        if (!node.canConvertToInt()) {
            throw new ModelFormatException(folder + ": config.json '" + field + "' = "
                    + UntrustedText.quote(node.toString()) + " is outside the range of a 32-bit integer");
        }
        return node.asInt();
    }
}
