package io.kvcache.core.model;

import io.kvcache.core.ModelFormatException;
import io.kvcache.core.UntrustedText;

import java.util.ArrayList;
import java.util.List;

/**
 * Reads the cross-layer KV sharing declared by layer-condensed checkpoints: LCKV's
 * {@code layer_types} (Hugging Face {@code config.json}, or the GGUF string
 * {@code <arch>.attention.layer_types} in converted files), integers separated by underscores,
 * the i-th naming the layer whose keys and values layer i attends to, e.g. {@code 0_3_3_3} for a
 * model where layers 1 to 3 attend to layer 3's cache.
 */
final class KvLayerTypes {
    private KvLayerTypes() {
    }

    static List<Integer> parse(String text, int layers, String source) {
        String[] parts = text.trim().split("_");
        if (parts.length != layers) {
            throw new ModelFormatException(source + ": layer_types '" + UntrustedText.quote(text) + "' names " + parts.length
                    + " layers but the model has " + layers);
        }
        List<Integer> kvLayers = new ArrayList<>();
        for (int i = 0; i < layers; i++) {
            String part = parts[i].trim();
            if (part.endsWith("s")) {
                throw new ModelFormatException(source + ": layer_types marks layer " + i
                        + " as sliding-window attention, which kvcache does not support");
            }
            try {
                int target = Integer.parseInt(part);
                if (target < 0 || target >= layers) {
                    throw new NumberFormatException();
                }
                kvLayers.add(target);
            } catch (NumberFormatException e) {
                throw new ModelFormatException(source + ": layer_types entry " + i + " '" + UntrustedText.quote(part)
                        + "' is not a layer from 0 to " + (layers - 1));
            }
        }
        for (int i = 0; i < layers; i++) {
            int target = kvLayers.get(i);
            if (kvLayers.get(target) != target) {
                throw new ModelFormatException(source + ": layer_types lets layer " + i + " attend to layer " + target
                        + ", which itself attends to layer " + kvLayers.get(target) + "; a layer whose cache others use must use its own");
            }
        }
        return kvLayers;
    }
}
