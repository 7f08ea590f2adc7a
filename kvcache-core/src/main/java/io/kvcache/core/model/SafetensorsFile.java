package io.kvcache.core.model;

import io.kvcache.core.ModelFormatException;
import io.kvcache.core.tensor.GgmlType;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * A {@code .safetensors} file mapped into memory: an 8-byte little-endian header length, a JSON
 * header naming each tensor's dtype, shape and byte range, then the raw row-major data.
 */
final class SafetensorsFile implements AutoCloseable {
    /** One tensor: its type, its shape in PyTorch order (last dimension contiguous), its bytes. */
    record Tensor(String name, GgmlType type, long[] shape, MemorySegment data) {
        long elementCount() {
            long n = 1;
            for (long d : shape) {
                n = Math.multiplyExact(n, d);
            }
            return n;
        }
    }

    private final Arena arena;
    private final Map<String, Tensor> tensors;

    private SafetensorsFile(Arena arena, Map<String, Tensor> tensors) {
        this.arena = arena;
        this.tensors = tensors;
    }

    static SafetensorsFile open(Path path) {
        Arena arena = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            MemorySegment file = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
            return new SafetensorsFile(arena, parse(path, file));
        } catch (IOException e) {
            arena.close();
            throw new ModelFormatException(path + ": cannot read the file: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static Map<String, Tensor> parse(Path path, MemorySegment file) {
        if (file.byteSize() < 8) {
            throw new ModelFormatException(path + ": truncated: shorter than the 8-byte safetensors header length");
        }
        long headerLength = file.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
        if (headerLength <= 0 || 8 + headerLength > file.byteSize()) {
            throw new ModelFormatException(path + ": corrupt safetensors header length " + headerLength
                    + " for a file of " + file.byteSize() + " bytes");
        }
        JsonNode header;
        try {
            byte[] json = file.asSlice(8, headerLength).toArray(ValueLayout.JAVA_BYTE);
            header = JsonMapper.shared().readTree(new String(json, StandardCharsets.UTF_8));
        } catch (JacksonException e) {
            throw new ModelFormatException(path + ": the safetensors header is not valid JSON: " + e.getOriginalMessage(), e);
        }
        long dataStart = 8 + headerLength;
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> entry : header.properties()) {
            String name = entry.getKey();
            if (name.equals("__metadata__")) {
                continue;
            }
            JsonNode info = entry.getValue();
            GgmlType type = dtype(path, name, info.path("dtype").asString(""));
            JsonNode shapeNode = info.path("shape");
            long[] shape = new long[shapeNode.size()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = shapeNode.get(i).asLong();
            }
            long begin = info.path("data_offsets").path(0).asLong(-1);
            long end = info.path("data_offsets").path(1).asLong(-1);
            Tensor probe = new Tensor(name, type, shape, null);
            long expected = probe.elementCount() * type.blockBytes();
            if (begin < 0 || end - begin != expected || dataStart + end > file.byteSize()) {
                throw new ModelFormatException(path + ": tensor '" + name + "' byte range [" + begin + ", " + end
                        + ") does not fit its shape (" + expected + " bytes) or the file (" + file.byteSize() + " bytes)");
            }
            tensors.put(name, new Tensor(name, type, shape, file.asSlice(dataStart + begin, expected)));
        }
        return tensors;
    }

    private static GgmlType dtype(Path path, String name, String dtype) {
        return switch (dtype) {
            case "F32" -> GgmlType.F32;
            case "F16" -> GgmlType.F16;
            case "BF16" -> GgmlType.BF16;
            default -> throw new ModelFormatException(path + ": tensor '" + name + "' has dtype '" + dtype
                    + "', which kvcache does not support in safetensors (supported: F32, F16, BF16)");
        };
    }

    Optional<Tensor> tensor(String name) {
        return Optional.ofNullable(tensors.get(name));
    }

    @Override
    public void close() {
        arena.close();
    }
}
