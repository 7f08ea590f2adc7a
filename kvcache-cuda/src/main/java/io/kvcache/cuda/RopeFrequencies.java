package io.kvcache.cuda;

import io.kvcache.core.model.ModelConfig;

/**
 * The RoPE frequency of each rotated pair, base^(-2i/d) divided by the model's frequency factor for
 * that pair where it has them (Llama 3.1); the kernel's angle at position p is p times it.
 */
final class RopeFrequencies {
    private RopeFrequencies() {
    }

    static float[] of(ModelConfig config, float[] factors) {
        int pairs = config.ropeDims() / 2;
        float[] frequencies = new float[pairs];
        for (int i = 0; i < pairs; i++) {
            double f = Math.pow(config.ropeBase(), -2.0 * i / config.ropeDims());
            frequencies[i] = (float) (factors == null ? f : f / factors[i]);
        }
        return frequencies;
    }
}
