package io.kvcache.core.gguf;

import io.kvcache.core.ModelFormatException;
import io.kvcache.core.tensor.GgmlType;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * A GGUF file (versions 2 and 3) mapped into memory. Metadata is parsed eagerly; tensor data stays
 * in the mapping and is never copied to the heap. Close the file to unmap it.
 */
public final class GgufFile implements AutoCloseable {
    private static final int MAGIC = 0x46554747; // "GGUF" read as a little-endian int
    private static final int DEFAULT_ALIGNMENT = 32;
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble DOUBLE = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path path;
    private final Arena arena;
    private final int version;
    private final GgufMetadata metadata;
    private final Map<String, GgufTensor> tensors;
    private final long dataOffset;

    private GgufFile(Path path, Arena arena, int version, GgufMetadata metadata,
                     Map<String, GgufTensor> tensors, long dataOffset) {
        this.path = path;
        this.arena = arena;
        this.version = version;
        this.metadata = metadata;
        this.tensors = Collections.unmodifiableMap(tensors);
        this.dataOffset = dataOffset;
    }

    /** Maps and parses {@code path}; throws {@link ModelFormatException} naming what is wrong. */
    public static GgufFile open(Path path) {
        Arena arena = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            MemorySegment file = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
            return parse(path, arena, file);
        } catch (IOException e) {
            arena.close();
            throw new ModelFormatException(path + ": cannot read the file: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static GgufFile parse(Path path, Arena arena, MemorySegment file) {
        Reader in = new Reader(path, file);
        int magic = in.i32();
        if (magic != MAGIC) {
            throw new ModelFormatException(path + ": not a GGUF file (magic bytes are 0x"
                    + Integer.toHexString(Integer.reverseBytes(magic)) + ", expected 0x47475546 \"GGUF\")");
        }
        int version = in.i32();
        if (version != 2 && version != 3) {
            throw new ModelFormatException(path + ": GGUF version " + Integer.toUnsignedString(version)
                    + " is not supported (supported: 2 and 3)");
        }
        long tensorCount = in.count("tensor count");
        long kvCount = in.count("metadata count");
        Map<String, Object> values = new LinkedHashMap<>();
        for (long i = 0; i < kvCount; i++) {
            String key = in.string();
            int valueType = in.i32();
            values.put(key, in.value(valueType, key));
        }
        GgufMetadata metadata = new GgufMetadata(path.toString(), values);

        record Info(String name, long[] dims, int typeId, long offset) { }
        Info[] infos = new Info[Math.toIntExact(tensorCount)];
        for (int i = 0; i < infos.length; i++) {
            String name = in.string();
            int nDims = in.i32();
            if (nDims < 1 || nDims > 4) {
                throw new ModelFormatException(path + ": tensor '" + name + "' has " + nDims + " dimensions (1 to 4 allowed)");
            }
            long[] dims = new long[nDims];
            for (int d = 0; d < nDims; d++) {
                dims[d] = in.i64();
                if (dims[d] <= 0) {
                    throw new ModelFormatException(path + ": tensor '" + name + "' has dimension " + d + " = " + dims[d]);
                }
            }
            infos[i] = new Info(name, dims, in.i32(), in.i64());
        }
        long alignment = metadata.integer("general.alignment").orElse((long) DEFAULT_ALIGNMENT);
        if (alignment <= 0 || Long.bitCount(alignment) != 1) {
            throw new ModelFormatException(path + ": general.alignment " + alignment + " is not a power of two");
        }
        long dataOffset = alignUp(in.position(), alignment);

        Map<String, GgufTensor> tensors = new LinkedHashMap<>();
        for (Info info : infos) {
            GgmlType type = GgmlType.byId(info.typeId()).orElseThrow(() -> new ModelFormatException(
                    path + ": tensor '" + info.name() + "' has unknown type id " + info.typeId()));
            long elements = 1;
            for (long d : info.dims()) {
                elements = Math.multiplyExact(elements, d);
            }
            if (info.dims()[0] % type.blockSize() != 0) {
                throw new ModelFormatException(path + ": tensor '" + info.name() + "' of type " + type
                        + " has " + info.dims()[0] + " columns, not a multiple of the block size " + type.blockSize());
            }
            long bytes = type.bytesFor(elements);
            if (info.offset() % alignment != 0) {
                throw new ModelFormatException(path + ": tensor '" + info.name() + "' data offset "
                        + info.offset() + " is not aligned to " + alignment);
            }
            long start = dataOffset + info.offset();
            if (info.offset() < 0 || start + bytes > file.byteSize()) {
                throw new ModelFormatException(path + ": truncated: tensor '" + info.name() + "' needs bytes "
                        + start + ".." + (start + bytes) + " but the file has " + file.byteSize() + " bytes");
            }
            if (tensors.put(info.name(), new GgufTensor(info.name(), info.dims(), type, file.asSlice(start, bytes))) != null) {
                throw new ModelFormatException(path + ": tensor '" + info.name() + "' appears twice");
            }
        }
        return new GgufFile(path, arena, version, metadata, tensors, dataOffset);
    }

    private static long alignUp(long offset, long alignment) {
        return (offset + alignment - 1) / alignment * alignment;
    }

    public Path path() {
        return path;
    }

    public int version() {
        return version;
    }

    public GgufMetadata metadata() {
        return metadata;
    }

    public Collection<GgufTensor> tensors() {
        return tensors.values();
    }

    public Optional<GgufTensor> tensor(String name) {
        return Optional.ofNullable(tensors.get(name));
    }

    public GgufTensor requireTensor(String name) {
        return tensor(name).orElseThrow(() -> new ModelFormatException(path + ": required tensor '" + name + "' is missing"));
    }

    /** Byte offset of the tensor data section in the file. */
    public long dataOffset() {
        return dataOffset;
    }

    @Override
    public void close() {
        arena.close();
    }

    /** Sequential little-endian reads with bounds checks that report truncation. */
    private static final class Reader {
        private final Path path;
        private final MemorySegment file;
        private long pos;

        Reader(Path path, MemorySegment file) {
            this.path = path;
            this.file = file;
        }

        long position() {
            return pos;
        }

        private long take(long bytes, String what) {
            if (bytes < 0 || pos + bytes > file.byteSize()) {
                throw new ModelFormatException(path + ": truncated: reading " + what + " at byte " + pos
                        + " needs " + bytes + " bytes but the file has " + file.byteSize());
            }
            long at = pos;
            pos += bytes;
            return at;
        }

        int i32() {
            return file.get(INT, take(4, "a 32-bit value"));
        }

        long i64() {
            return file.get(LONG, take(8, "a 64-bit value"));
        }

        long count(String what) {
            long n = i64();
            // Every counted item takes at least one byte, so a count beyond the file size is corrupt.
            if (n < 0 || n > file.byteSize()) {
                throw new ModelFormatException(path + ": corrupt " + what + " " + Long.toUnsignedString(n));
            }
            return n;
        }

        String string() {
            long length = count("string length");
            long at = take(length, "a string of " + length + " bytes");
            return new String(file.asSlice(at, length).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
        }

        Object value(int type, String key) {
            return switch (type) {
                case 0 -> file.get(ValueLayout.JAVA_BYTE, take(1, key)) & 0xFF;
                case 1 -> (int) file.get(ValueLayout.JAVA_BYTE, take(1, key));
                case 2 -> file.get(SHORT, take(2, key)) & 0xFFFF;
                case 3 -> (int) file.get(SHORT, take(2, key));
                case 4 -> file.get(INT, take(4, key)) & 0xFFFFFFFFL;
                case 5 -> file.get(INT, take(4, key));
                case 6 -> file.get(FLOAT, take(4, key));
                case 7 -> bool(key);
                case 8 -> string();
                case 9 -> array(key);
                case 10, 11 -> file.get(LONG, take(8, key));
                case 12 -> file.get(DOUBLE, take(8, key));
                default -> throw new ModelFormatException(path + ": metadata '" + key + "' has unknown value type " + type);
            };
        }

        private boolean bool(String key) {
            byte b = file.get(ValueLayout.JAVA_BYTE, take(1, key));
            if (b != 0 && b != 1) {
                throw new ModelFormatException(path + ": metadata '" + key + "' has boolean byte " + b);
            }
            return b == 1;
        }

        private Object array(String key) {
            int type = i32();
            int n = Math.toIntExact(count("array length of '" + key + "'"));
            switch (type) {
                case 0, 1, 2, 3, 5 -> {
                    int[] a = new int[n];
                    for (int i = 0; i < n; i++) {
                        a[i] = (Integer) value(type, key);
                    }
                    return a;
                }
                case 4, 10, 11 -> {
                    long[] a = new long[n];
                    for (int i = 0; i < n; i++) {
                        a[i] = (Long) value(type, key);
                    }
                    return a;
                }
                case 6 -> {
                    float[] a = new float[n];
                    for (int i = 0; i < n; i++) {
                        a[i] = file.get(FLOAT, take(4, key));
                    }
                    return a;
                }
                case 7 -> {
                    boolean[] a = new boolean[n];
                    for (int i = 0; i < n; i++) {
                        a[i] = bool(key);
                    }
                    return a;
                }
                case 8 -> {
                    String[] a = new String[n];
                    for (int i = 0; i < n; i++) {
                        a[i] = string();
                    }
                    return a;
                }
                case 12 -> {
                    double[] a = new double[n];
                    for (int i = 0; i < n; i++) {
                        a[i] = file.get(DOUBLE, take(8, key));
                    }
                    return a;
                }
                case 9 -> {
                    Object[] a = new Object[n];
                    for (int i = 0; i < n; i++) {
                        a[i] = array(key);
                    }
                    return a;
                }
                default -> throw new ModelFormatException(path + ": metadata array '" + key + "' has unknown element type " + type);
            }
        }
    }
}
