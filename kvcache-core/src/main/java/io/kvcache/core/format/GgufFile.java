package io.kvcache.core.format;

import io.kvcache.core.ModelFormatException;
import io.kvcache.core.UntrustedText;
import io.kvcache.core.tensor.GgmlType;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A GGUF file (versions 2 and 3) mapped into memory. Metadata is parsed eagerly; tensor data stays
 * in the mapping and is never copied to the heap. Close the file to unmap it.
 */
public final class GgufFile implements TensorFile {
    private static final int MAGIC = 0x46554747; // "GGUF" read as a little-endian int
    /** Magic, version, tensor count and metadata count. */
    private static final long HEADER_BYTES = 4 + 4 + 8 + 8;
    private static final int DEFAULT_ALIGNMENT = 32;
    /** ggml uses 32; anything near the file size would only serve to push offsets past it. */
    private static final long MAX_ALIGNMENT = 1 << 20;
    /** Arrays of arrays exist in the format but no model uses more than one level of them. */
    private static final int MAX_ARRAY_NESTING = 2;
    /** The fewest bytes one tensor description takes: name length, dimension count, one dimension, type, offset. */
    private static final int MIN_TENSOR_INFO_BYTES = 8 + 4 + 8 + 4 + 8;
    /** The fewest bytes one metadata entry takes: key length, value type, a one-byte value. */
    private static final int MIN_METADATA_BYTES = 8 + 4 + 1;
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble DOUBLE = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final MappedFile file;
    private final int version;
    private final GgufMetadata metadata;
    private final Map<String, GgufTensor> tensors;
    private final long dataOffset;

    private GgufFile(MappedFile file, int version, GgufMetadata metadata, Map<String, GgufTensor> tensors,
                     long dataOffset) {
        this.file = file;
        this.version = version;
        this.metadata = metadata;
        this.tensors = Collections.unmodifiableMap(tensors);
        this.dataOffset = dataOffset;
    }

    /** Maps and parses {@code path}; throws {@link ModelFormatException} naming what is wrong. */
    public static GgufFile open(Path path) {
        return MappedFile.read(path, "GGUF", HEADER_BYTES, GgufFile::parse);
    }

    private static GgufFile parse(MappedFile mapped) {
        Path path = mapped.path();
        MemorySegment file = mapped.bytes();
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
        long tensorCount = in.count("tensor count", MIN_TENSOR_INFO_BYTES);
        long kvCount = in.count("metadata count", MIN_METADATA_BYTES);
        Map<String, Object> values = new LinkedHashMap<>();
        for (long i = 0; i < kvCount; i++) {
            String key = in.string();
            int valueType = in.i32();
            if (values.put(key, in.value(valueType, key, 0)) != null) {
                throw new ModelFormatException(path + ": metadata '" + UntrustedText.quote(key) + "' appears twice");
            }
        }
        GgufMetadata metadata = new GgufMetadata(path.toString(), values);

        record Info(String name, long[] dims, int typeId, long offset) { }
        List<Info> infos = new ArrayList<>();
        for (long i = 0; i < tensorCount; i++) {
            String name = in.string();
            int nDims = in.i32();
            if (nDims < 1 || nDims > 4) {
                throw new ModelFormatException(path + ": tensor '" + UntrustedText.quote(name) + "' has " + nDims
                        + " dimensions (1 to 4 allowed)");
            }
            long[] dims = new long[nDims];
            for (int d = 0; d < nDims; d++) {
                dims[d] = in.i64();
                if (dims[d] <= 0) {
                    throw new ModelFormatException(path + ": tensor '" + UntrustedText.quote(name) + "' has dimension "
                            + d + " = " + dims[d]);
                }
            }
            infos.add(new Info(name, dims, in.i32(), in.i64()));
        }
        long alignment = metadata.integer("general.alignment").orElse((long) DEFAULT_ALIGNMENT);
        if (alignment <= 0 || alignment > MAX_ALIGNMENT || Long.bitCount(alignment) != 1) {
            throw new ModelFormatException(path + ": general.alignment " + alignment
                    + " is not a power of two up to " + MAX_ALIGNMENT);
        }
        long dataOffset = alignUp(in.position(), alignment);

        Map<String, GgufTensor> tensors = new LinkedHashMap<>();
        for (Info info : infos) {
            String name = UntrustedText.quote(info.name());
            GgmlType type = GgmlType.byId(info.typeId()).orElseThrow(() -> new ModelFormatException(
                    path + ": tensor '" + name + "' has unknown type id " + info.typeId()));
            long bytes = bytes(path, name, info.dims(), type);
            if (info.offset() % alignment != 0) {
                throw new ModelFormatException(path + ": tensor '" + name + "' data offset "
                        + Long.toUnsignedString(info.offset()) + " is not aligned to " + alignment);
            }
            // Compared without adding, so that an offset near 2^63 cannot wrap around to pass.
            long room = file.byteSize() - dataOffset;
            if (info.offset() < 0 || info.offset() > room || bytes > room - info.offset()) {
                throw new ModelFormatException(path + ": truncated: tensor '" + name + "' needs " + bytes
                        + " bytes at data offset " + Long.toUnsignedString(info.offset()) + " but the data section has "
                        + Math.max(room, 0) + " bytes");
            }
            if (tensors.put(info.name(), new GgufTensor(info.name(), info.dims(), type,
                    file.asSlice(dataOffset + info.offset(), bytes))) != null) {
                throw new ModelFormatException(path + ": tensor '" + name + "' appears twice");
            }
        }
        mapped.rejectOverlaps(tensors.values());
        return new GgufFile(mapped, version, metadata, tensors, dataOffset);
    }

    /**
     * The tensor's size in bytes. Its columns must fill whole quantization blocks, and its columns
     * and rows fit an int (kernels index them so); the product is computed exactly.
     */
    private static long bytes(Path path, String name, long[] dims, GgmlType type) {
        if (dims[0] % type.blockSize() != 0) {
            throw new ModelFormatException(path + ": tensor '" + name + "' of type " + type
                    + " has " + dims[0] + " columns, not a multiple of the block size " + type.blockSize());
        }
        try {
            long rows = 1;
            for (int d = 1; d < dims.length; d++) {
                rows = Math.multiplyExact(rows, dims[d]);
            }
            if (dims[0] > Integer.MAX_VALUE || rows > Integer.MAX_VALUE) {
                throw new ArithmeticException("dimensions beyond 2^31");
            }
            return Math.multiplyExact(dims[0] / type.blockSize() * rows, (long) type.blockBytes());
        } catch (ArithmeticException e) {
            throw new ModelFormatException(path + ": tensor '" + name + "' has dimensions " + Arrays.toString(dims)
                    + ", too large for any file");
        }
    }

    private static long alignUp(long offset, long alignment) {
        return (offset + alignment - 1) / alignment * alignment;
    }

    @Override
    public Path path() {
        return file.path();
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

    @Override
    public Optional<GgufTensor> tensor(String name) {
        return Optional.ofNullable(tensors.get(name));
    }

    public GgufTensor requireTensor(String name) {
        return tensor(name).orElseThrow(() -> new ModelFormatException(path() + ": required tensor '"
                + UntrustedText.quote(name) + "' is missing"));
    }

    /** Byte offset of the tensor data section in the file. */
    public long dataOffset() {
        return dataOffset;
    }

    @Override
    public void close() {
        file.close();
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

        /**
         * A count of items of at least {@code minBytes} each, checked against the bytes left before
         * anything is allocated for them (a count of 2^40 eight-byte values would otherwise ask for
         * terabytes).
         */
        long count(String what, int minBytes) {
            long n = i64();
            long left = file.byteSize() - pos;
            if (n < 0 || n > left / minBytes) {
                throw new ModelFormatException(path + ": truncated or corrupt " + what + " " + Long.toUnsignedString(n)
                        + ": " + left + " bytes are left for items of at least " + minBytes + " bytes each");
            }
            return n;
        }

        String string() {
            long length = count("string length", 1);
            long at = take(length, "a string of " + length + " bytes");
            return new String(file.asSlice(at, length).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
        }

        Object value(int type, String key, int nesting) {
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
                case 9 -> array(key, nesting);
                case 10, 11 -> file.get(LONG, take(8, key));
                case 12 -> file.get(DOUBLE, take(8, key));
                default -> throw new ModelFormatException(path + ": metadata '" + UntrustedText.quote(key)
                        + "' has unknown value type " + type);
            };
        }

        private boolean bool(String key) {
            byte b = file.get(ValueLayout.JAVA_BYTE, take(1, key));
            if (b != 0 && b != 1) {
                throw new ModelFormatException(path + ": metadata '" + UntrustedText.quote(key) + "' has boolean byte " + b);
            }
            return b == 1;
        }

        private Object array(String key, int nesting) {
            if (nesting >= MAX_ARRAY_NESTING) {
                throw new ModelFormatException(path + ": metadata '" + UntrustedText.quote(key) + "' nests arrays deeper than "
                        + MAX_ARRAY_NESTING);
            }
            int type = i32();
            int elementBytes = switch (type) {
                case 0, 1, 7 -> 1;
                case 2, 3 -> 2;
                case 4, 5, 6 -> 4;
                case 8, 10, 11, 12 -> 8; // a string takes at least its 8-byte length
                case 9 -> 12; // an array takes at least its type and count
                default -> throw new ModelFormatException(path + ": metadata array '" + UntrustedText.quote(key)
                        + "' has unknown element type " + type);
            };
            long count = count("array length of '" + UntrustedText.quote(key) + "'", elementBytes);
            if (count > Integer.MAX_VALUE - 8) {
                throw new ModelFormatException(path + ": metadata array '" + UntrustedText.quote(key) + "' has "
                        + count + " elements, more than a Java array holds");
            }
            int n = (int) count;
            switch (type) {
                case 0, 1, 2, 3, 5 -> {
                    int[] a = new int[n];
                    for (int i = 0; i < n; i++) {
                        a[i] = (Integer) value(type, key, nesting);
                    }
                    return a;
                }
                case 4, 10, 11 -> {
                    long[] a = new long[n];
                    for (int i = 0; i < n; i++) {
                        a[i] = (Long) value(type, key, nesting);
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
                        a[i] = array(key, nesting + 1);
                    }
                    return a;
                }
                default -> throw new IllegalStateException("element type " + type + " was checked above");
            }
        }
    }
}
