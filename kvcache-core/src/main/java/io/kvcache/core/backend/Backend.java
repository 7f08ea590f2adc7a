package io.kvcache.core.backend;

import java.util.Map;

/** An opened backend: the forward pass of one model on one device. Closing it frees what it holds. */
public interface Backend extends AutoCloseable {
    /** The {@code kvcache.backend} value naming it. */
    String name();

    /** What it runs on, for the endpoint and health. */
    String device();

    ForwardPass forwardPass();

    /** Figures for the endpoint and health (threads, device memory, ...). */
    Map<String, Object> details();

    @Override
    void close();
}
