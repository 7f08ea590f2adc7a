package io.kvcache.core.kv.snapshot;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** Writes the little-endian fields of a snapshot into a growing array. */
final class SnapshotOutput {
    private byte[] out;
    private int size;

    SnapshotOutput(int expected) {
        out = new byte[Math.max(64, expected)];
    }

    private void ensure(long more) {
        long needed = size + more;
        if (needed > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("a cache snapshot is limited to 2 GiB");
        }
        if (needed > out.length) {
            out = Arrays.copyOf(out, (int) Math.min(Integer.MAX_VALUE - 8, Math.max(needed, 2L * out.length)));
        }
    }

    void u8(int v) {
        ensure(1);
        out[size++] = (byte) v;
    }

    void u16(int v) {
        ensure(2);
        out[size++] = (byte) v;
        out[size++] = (byte) (v >> 8);
    }

    void i32(int v) {
        ensure(4);
        out[size++] = (byte) v;
        out[size++] = (byte) (v >> 8);
        out[size++] = (byte) (v >> 16);
        out[size++] = (byte) (v >> 24);
    }

    void ints(int[] values) {
        for (int v : values) {
            i32(v);
        }
    }

    void floats(float[] values) {
        for (float v : values) {
            i32(Float.floatToRawIntBits(v));
        }
    }

    void bytes(byte[] bytes) {
        ensure(bytes.length);
        System.arraycopy(bytes, 0, out, size, bytes.length);
        size += bytes.length;
    }

    /** A UTF-8 string after its byte length ({@code wide}: 4 bytes, otherwise 2). */
    void string(String s, boolean wide) {
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        if (wide) {
            i32(utf8.length);
        } else {
            if (utf8.length > 0xFFFF) {
                throw new IllegalArgumentException("a name in a snapshot is at most 65535 bytes: " + s.substring(0, 40) + "...");
            }
            u16(utf8.length);
        }
        bytes(utf8);
    }

    int size() {
        return size;
    }

    byte[] array() {
        return out;
    }

    byte[] toBytes() {
        return Arrays.copyOf(out, size);
    }
}
