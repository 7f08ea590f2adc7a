package io.kvcache.core.format;

import io.kvcache.core.ModelFormatException;
import io.kvcache.core.UntrustedText;
import io.kvcache.core.tensor.GgmlType;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * A {@code .safetensors} file mapped into memory: an 8-byte little-endian header length, a JSON
 * header naming each tensor's dtype, shape and byte range, then the raw row-major data.
 */
public final class SafetensorsFile implements TensorFile {
    /** One tensor: its type, its shape in PyTorch order (last dimension contiguous), its bytes. */
    public record Tensor(String name, GgmlType type, long[] shape, MemorySegment data) implements MappedTensor {
        @Override
        public int dimensionCount() {
            return shape.length;
        }

        @Override
        public long elementCount() {
            long n = 1;
            for (long d : shape) {
                n = Math.multiplyExact(n, d);
            }
            return n;
        }

        @Override
        public int cols() {
            return shape.length == 0 ? 1 : Math.toIntExact(shape[shape.length - 1]);
        }

        /** Multiplied rather than divided out, as a dimension may be 0 here. */
        @Override
        public int rows() {
            long rows = 1;
            for (int d = 0; d < shape.length - 1; d++) {
                rows = Math.multiplyExact(rows, shape[d]);
            }
            return Math.toIntExact(rows);
        }
    }

    /** The format's own limit on the JSON header. */
    private static final long MAX_HEADER_BYTES = 100L << 20;
    /** Duplicate tensor names in the header are an error, not "the last one wins". */
    private static final JsonMapper HEADER_JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    private final MappedFile file;
    private final Map<String, Tensor> tensors;

    private SafetensorsFile(MappedFile file, Map<String, Tensor> tensors) {
        this.file = file;
        this.tensors = tensors;
    }

    /** Maps and parses {@code path}; throws {@link ModelFormatException} naming what is wrong. */
    public static SafetensorsFile open(Path path) {
        // The header starts with its own 8-byte length.
        return MappedFile.read(path, "safetensors", 8, mapped -> new SafetensorsFile(mapped, parse(mapped)));
    }

    private static Map<String, Tensor> parse(MappedFile mapped) {
        Path path = mapped.path();
        MemorySegment file = mapped.bytes();
        long headerLength = file.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
        // Compared without adding, so that a length near 2^63 cannot wrap around to pass.
        if (headerLength <= 0 || headerLength > MAX_HEADER_BYTES || headerLength > file.byteSize() - 8) {
            throw new ModelFormatException(path + ": corrupt safetensors header length " + headerLength
                    + " for a file of " + file.byteSize() + " bytes (at most " + MAX_HEADER_BYTES + ")");
        }
        JsonNode header;
        try {
            byte[] json = file.asSlice(8, headerLength).toArray(ValueLayout.JAVA_BYTE);
            header = HEADER_JSON.readTree(new String(json, StandardCharsets.UTF_8));
        } catch (JacksonException e) {
            throw new ModelFormatException(path + ": the safetensors header is not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (!header.isObject()) {
            throw new ModelFormatException(path + ": the safetensors header is not a JSON object");
        }
        long dataStart = 8 + headerLength;
        long dataBytes = file.byteSize() - dataStart;
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> entry : header.properties()) {
            String name = entry.getKey();
            if (name.equals("__metadata__")) {
                continue;
            }
            String quoted = UntrustedText.quote(name);
            JsonNode info = entry.getValue();
            GgmlType type = dtype(path, quoted, info.path("dtype").asString(""));
            long[] shape = shape(path, quoted, info.path("shape"));
            long expected = byteCount(path, quoted, shape, type);
            JsonNode offsets = info.path("data_offsets");
            if (offsets.size() != 2 || !offsets.get(0).canConvertToLong() || !offsets.get(1).canConvertToLong()
                    || !offsets.get(0).isIntegralNumber() || !offsets.get(1).isIntegralNumber()) {
                throw new ModelFormatException(path + ": tensor '" + quoted + "' lacks its two integer data_offsets");
            }
            long begin = offsets.get(0).asLong();
            long end = offsets.get(1).asLong();
            if (begin < 0 || end < begin || end > dataBytes || end - begin != expected) {
                throw new ModelFormatException(path + ": tensor '" + quoted + "' byte range [" + begin + ", " + end
                        + ") does not fit its shape (" + expected + " bytes) or the data (" + dataBytes + " bytes)");
            }
            tensors.put(name, new Tensor(name, type, shape, file.asSlice(dataStart + begin, expected)));
        }
        mapped.rejectOverlaps(tensors.values());
        return tensors;
    }

    /** Dimensions are non-negative integers; each, and the rows they make, fits an int as the kernels index them. */
    private static long[] shape(Path path, String name, JsonNode shapeNode) {
        if (!shapeNode.isArray() || shapeNode.size() > 4) {
            throw new ModelFormatException(path + ": tensor '" + name + "' has no shape of up to 4 dimensions");
        }
        long[] shape = new long[shapeNode.size()];
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToInt() || d.asInt() < 0) {
                throw new ModelFormatException(path + ": tensor '" + name + "' has dimension " + i + " = "
                        + UntrustedText.quote(d.toString()) + ", not an integer from 0 to " + Integer.MAX_VALUE);
            }
            shape[i] = d.asInt();
        }
        return shape;
    }

    private static long byteCount(Path path, String name, long[] shape, GgmlType type) {
        try {
            long elements = 1;
            for (long d : shape) {
                elements = Math.multiplyExact(elements, d);
            }
            return Math.multiplyExact(elements, (long) type.blockBytes());
        } catch (ArithmeticException e) {
            throw new ModelFormatException(path + ": tensor '" + name + "' has shape " + Arrays.toString(shape)
                    + ", too large for any file");
        }
    }

    private static GgmlType dtype(Path path, String name, String dtype) {
        return switch (dtype) {
            case "F32" -> GgmlType.F32;
            case "F16" -> GgmlType.F16;
            case "BF16" -> GgmlType.BF16;
            default -> throw new ModelFormatException(path + ": tensor '" + name + "' has dtype '" + UntrustedText.quote(dtype)
                    + "', which kvcache does not support in safetensors (supported: F32, F16, BF16)");
        };
    }

    @Override
    public Path path() {
        return file.path();
    }

    @Override
    public Optional<Tensor> tensor(String name) {
        return Optional.ofNullable(tensors.get(name));
    }

    @Override
    public void close() {
        file.close();
    }
}
