package io.kvcache.core;

import io.kvcache.core.cpu.CpuForwardPass;
import io.kvcache.core.kv.TokenClasses;
import io.kvcache.core.model.Model;
import io.kvcache.core.tensor.ComputePool;

import java.io.IOException;
import java.nio.file.Files;

/**
 * The shared TinyStories-656K model (2 layers of 4 KV heads of 16 dimensions) ready to run on the
 * CPU on two threads, with its token classes and the shared eval text tokenized (BOS first): the
 * setup of the tests that run caches on real text. Skips the calling test where the shared data is
 * absent; close it after the class.
 */
public record TinyStoriesOnCpu(Model model, ComputePool pool, CpuForwardPass forwardPass, TokenClasses classes,
                               int[] text) implements AutoCloseable {

    public static TinyStoriesOnCpu open() throws IOException {
        String eval = Files.readString(SharedData.require("eval/tinystories-eval.txt"));
        Model model = Model.load(SharedData.require("models/tiny/tinystories-656k.gguf"));
        ComputePool pool = new ComputePool(2);
        return new TinyStoriesOnCpu(model, pool, new CpuForwardPass(model, pool), TokenClasses.of(model.tokenizer()),
                model.tokenizer().encode(eval, true, false));
    }

    @Override
    public void close() {
        pool.close();
        model.close();
    }
}
