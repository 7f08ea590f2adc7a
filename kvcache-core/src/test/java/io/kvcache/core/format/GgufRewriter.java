package io.kvcache.core.format;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes a GGUF file back out, field by field as the format defines them, with some metadata
 * replaced: a real model made hostile in one value. Integers keep the Java type the reader gives
 * them ({@code Integer} as int32, {@code Long} as uint64), so a replaced value reads back as written.
 */
public final class GgufRewriter {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    private GgufRewriter() {
    }

    /** {@code source}'s bytes with {@code overrides} in place of (or added to) its metadata; a null value removes a key. */
    public static byte[] rewrite(Path source, Map<String, Object> overrides) {
        try (GgufFile file = GgufFile.open(source)) {
            Map<String, Object> values = new LinkedHashMap<>();
            for (String key : file.metadata().keys()) {
                values.put(key, file.metadata().get(key).orElseThrow());
            }
            overrides.forEach((k, v) -> {
                if (v == null) {
                    values.remove(k);
                } else {
                    values.put(k, v);
                }
            });
            GgufRewriter w = new GgufRewriter();
            w.bytes("GGUF".getBytes(StandardCharsets.US_ASCII)).u32(3).u64(file.tensors().size()).u64(values.size());
            values.forEach((k, v) -> w.string(k).value(v));
            long offset = 0;
            for (GgufTensor t : file.tensors()) {
                w.string(t.name()).u32(t.dims().length);
                for (long d : t.dims()) {
                    w.u64(d);
                }
                w.u32(t.type().id()).u64(offset);
                offset = align(offset + t.data().byteSize());
            }
            w.pad();
            for (GgufTensor t : file.tensors()) {
                w.bytes(t.data().toArray(ValueLayout.JAVA_BYTE)).pad();
            }
            return w.out.toByteArray();
        }
    }

    private static long align(long n) {
        return (n + 31) / 32 * 32;
    }

    private GgufRewriter pad() {
        while (out.size() % 32 != 0) {
            out.write(0);
        }
        return this;
    }

    private GgufRewriter value(Object v) {
        switch (v) {
            case Integer i -> u32(5).u32(i);
            case Long l -> u32(10).u64(l);
            case Float f -> u32(6).f32(f);
            case Double d -> u32(12).f64(d);
            case Boolean b -> u32(7).u8(b ? 1 : 0);
            case String s -> u32(8).string(s);
            default -> u32(9).array(v);
        }
        return this;
    }

    private GgufRewriter array(Object v) {
        switch (v) {
            case int[] a -> {
                u32(5).u64(a.length);
                for (int x : a) {
                    u32(x);
                }
            }
            case long[] a -> {
                u32(10).u64(a.length);
                for (long x : a) {
                    u64(x);
                }
            }
            case float[] a -> {
                u32(6).u64(a.length);
                for (float x : a) {
                    f32(x);
                }
            }
            case double[] a -> {
                u32(12).u64(a.length);
                for (double x : a) {
                    f64(x);
                }
            }
            case boolean[] a -> {
                u32(7).u64(a.length);
                for (boolean x : a) {
                    u8(x ? 1 : 0);
                }
            }
            case String[] a -> {
                u32(8).u64(a.length);
                for (String x : a) {
                    string(x);
                }
            }
            case Object[] a -> {
                u32(9).u64(a.length);
                for (Object x : a) {
                    array(x);
                }
            }
            default -> throw new IllegalArgumentException("not a GGUF value: " + v.getClass());
        }
        return this;
    }

    private GgufRewriter string(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return u64(b.length).bytes(b);
    }

    private GgufRewriter u8(int v) {
        out.write(v);
        return this;
    }

    private GgufRewriter u32(int v) {
        return bytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array());
    }

    private GgufRewriter u64(long v) {
        return bytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
    }

    private GgufRewriter f32(float v) {
        return bytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(v).array());
    }

    private GgufRewriter f64(double v) {
        return bytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putDouble(v).array());
    }

    private GgufRewriter bytes(byte[] b) {
        out.writeBytes(b);
        return this;
    }
}
