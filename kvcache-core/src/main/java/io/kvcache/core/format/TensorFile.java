package io.kvcache.core.format;

import java.nio.file.Path;
import java.util.Optional;

/** A model file's tensors by name, mapped from the file until it is closed. */
public interface TensorFile extends AutoCloseable {
    Path path();

    Optional<? extends MappedTensor> tensor(String name);

    /** Unmaps the file; nothing read from it may be used afterwards. */
    @Override
    void close();
}
