package io.kvcache.cuda;

/**
 * The kernels the forward pass launches besides the weight products (see {@link WeightKernels}),
 * with their argument lists and block sizes. A signature has one letter per argument: {@code p} a
 * device pointer, {@code i} an int, {@code f} a float; PtxResourcesTest checks it against the
 * entry's parameters in the PTX and the block size against its {@code .maxntid}, and the launcher
 * checks every launch's arguments against it.
 */
public enum CudaKernel {
    RMS_NORM(PtxModule.NORM, "rms_norm", "pppif", 256),
    QK_NORM_ROPE_STORE(PtxModule.ATTENTION, "qk_norm_rope_store", "pipppppiiiiiiiif", 128),
    ATTENTION(PtxModule.ATTENTION, "attention", "pipppiiiiiiif", 128),
    SWIGLU(PtxModule.SWIGLU, "swiglu", "ppii", 256),
    REPETITION_PENALTY(PtxModule.SAMPLING, "repetition_penalty", "ppiif", 256),
    ARGMAX(PtxModule.SAMPLING, "argmax", "pipi", 1024),
    SAMPLE(PtxModule.SAMPLING, "sample", "pififffpi", 1024);

    private final PtxModule module;
    private final String entry;
    private final String signature;
    private final int threads;

    CudaKernel(PtxModule module, String entry, String signature, int threads) {
        this.module = module;
        this.entry = entry;
        this.signature = signature;
        this.threads = threads;
    }

    public PtxModule module() {
        return module;
    }

    /** The {@code .entry} name in the module's PTX. */
    public String entry() {
        return entry;
    }

    /** The arguments, a letter each: p pointer, i int, f float. */
    public String signature() {
        return signature;
    }

    /** Threads per block it is launched with. */
    public int threads() {
        return threads;
    }
}
