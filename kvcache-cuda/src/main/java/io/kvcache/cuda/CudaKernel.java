package io.kvcache.cuda;

/** The kernels the forward pass launches besides the weight products (see {@link WeightKernels}). */
public enum CudaKernel {
    RMS_NORM(PtxModule.NORM, "rms_norm"),
    QK_NORM_ROPE_STORE(PtxModule.ATTENTION, "qk_norm_rope_store"),
    ATTENTION(PtxModule.ATTENTION, "attention"),
    SWIGLU(PtxModule.SWIGLU, "swiglu"),
    REPETITION_PENALTY(PtxModule.SAMPLING, "repetition_penalty"),
    ARGMAX(PtxModule.SAMPLING, "argmax"),
    SAMPLE(PtxModule.SAMPLING, "sample");

    private final PtxModule module;
    private final String entry;

    CudaKernel(PtxModule module, String entry) {
        this.module = module;
        this.entry = entry;
    }

    public PtxModule module() {
        return module;
    }

    /** The {@code .entry} name in the module's PTX. */
    public String entry() {
        return entry;
    }
}
