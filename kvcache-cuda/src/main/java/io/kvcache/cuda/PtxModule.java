package io.kvcache.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/** The PTX files shipped in this jar, one per CUDA source file of src/main/cuda. */
public enum PtxModule {
    ATTENTION("attention"),
    MATMUL("matmul"),
    NORM("norm"),
    SAMPLING("sampling"),
    SWIGLU("swiglu");

    private final String source;

    PtxModule(String source) {
        this.source = source;
    }

    /** The CUDA source it is compiled from, e.g. {@code matmul.cu}. */
    public String sourceFile() {
        return source + ".cu";
    }

    /** Its class-path resource. */
    public String resource() {
        return "/io/kvcache/cuda/ptx/" + source + ".ptx";
    }

    /** The PTX text, NUL-terminated as cuModuleLoadData wants it. */
    public byte[] loadTerminated() {
        byte[] text = read();
        byte[] terminated = new byte[text.length + 1];
        System.arraycopy(text, 0, terminated, 0, text.length);
        return terminated;
    }

    /** The PTX text as packaged. */
    public byte[] read() {
        try (InputStream in = PtxModule.class.getResourceAsStream(resource())) {
            if (in == null) {
                throw new IllegalStateException("the PTX resource " + resource() + " is missing from kvcache-cuda's jar");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("could not read " + resource(), e);
        }
    }
}
