package io.kvcache.core.format;

import io.kvcache.core.ModelFormatException;
import io.kvcache.core.UntrustedText;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.function.Function;

/**
 * A whole file mapped read-only into memory, the one way the format readers open a file. Only a
 * regular file is opened (a FIFO or a device would block or never end), one shorter than its
 * format's fixed header is refused before parsing, and every read goes through the mapped segment,
 * so it is bounded by the file's size. Closing it unmaps the file.
 */
final class MappedFile implements AutoCloseable {
    private final Path path;
    private final Arena arena;
    private final MemorySegment bytes;

    private MappedFile(Path path, Arena arena, MemorySegment bytes) {
        this.path = path;
        this.arena = arena;
        this.bytes = bytes;
    }

    /**
     * Maps {@code path} and hands it to {@code parse}; the mapping is closed again when parsing
     * fails, and otherwise belongs to what {@code parse} returns.
     *
     * @param format      the format's name, for the error messages
     * @param headerBytes the fewest bytes a file of the format has
     * @throws ModelFormatException naming the file and what is wrong with it
     */
    static <T> T read(Path path, String format, long headerBytes, Function<MappedFile, T> parse) {
        MappedFile file = map(path, format, headerBytes);
        try {
            return parse.apply(file);
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    private static MappedFile map(Path path, String format, long headerBytes) {
        if (!Files.isRegularFile(path)) {
            throw new ModelFormatException(path + ": no such file" + (Files.exists(path) ? " (not a regular file)" : ""));
        }
        Arena arena = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size < headerBytes) {
                throw new ModelFormatException(path + ": truncated: " + size + " bytes, shorter than the " + headerBytes
                        + "-byte " + format + " header");
            }
            return new MappedFile(path, arena, channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena));
        } catch (IOException e) {
            arena.close();
            throw new ModelFormatException(path + ": cannot read the file: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    Path path() {
        return path;
    }

    /** The file's bytes; reading past its end throws rather than reading anything else. */
    MemorySegment bytes() {
        return bytes;
    }

    /** Two tensors sharing bytes would be two names for one memory, a sign of a forged file. */
    void rejectOverlaps(Collection<? extends MappedTensor> tensors) {
        List<? extends MappedTensor> byStart = tensors.stream().filter(t -> t.data().byteSize() > 0)
                .sorted(Comparator.comparingLong((MappedTensor t) -> t.data().address() - bytes.address())).toList();
        for (int i = 1; i < byStart.size(); i++) {
            MappedTensor before = byStart.get(i - 1);
            MappedTensor after = byStart.get(i);
            if (after.data().address() < before.data().address() + before.data().byteSize()) {
                throw new ModelFormatException(path + ": tensors '" + UntrustedText.quote(before.name()) + "' and '"
                        + UntrustedText.quote(after.name()) + "' overlap in the file");
            }
        }
    }

    @Override
    public void close() {
        arena.close();
    }
}
