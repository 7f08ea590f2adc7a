package io.kvcache.core.kv.snapshot;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Reads the fields of untrusted snapshot bytes: every count is checked against the bytes left
 * before anything is allocated for it, and running out of bytes is a {@link SnapshotFormatException}
 * naming the field.
 */
final class SnapshotInput {
    private final ByteBuffer in;

    SnapshotInput(byte[] bytes, int length) {
        this.in = ByteBuffer.wrap(bytes, 0, length).order(ByteOrder.LITTLE_ENDIAN);
    }

    int remaining() {
        return in.remaining();
    }

    private void need(long bytes, String what) {
        if (bytes > in.remaining()) {
            throw new SnapshotFormatException("truncated: " + what + " needs " + bytes + " bytes, " + in.remaining() + " are left");
        }
    }

    int u8(String what) {
        need(1, what);
        return in.get() & 0xFF;
    }

    int u16(String what) {
        need(2, what);
        return in.getShort() & 0xFFFF;
    }

    int i32(String what) {
        need(4, what);
        return in.getInt();
    }

    /** A count of items of {@code bytesEach} bytes that must all still be there. */
    int count(String what, long bytesEach) {
        int count = i32(what);
        if (count < 0) {
            throw new SnapshotFormatException(what + " is negative: " + count);
        }
        need(count * bytesEach, count + " " + what);
        return count;
    }

    byte[] bytes(long count, String what) {
        need(count, what);
        byte[] out = new byte[(int) count];
        in.get(out);
        return out;
    }

    int[] ints(int count, String what) {
        need(4L * count, what);
        int[] out = new int[count];
        in.asIntBuffer().get(out);
        in.position(in.position() + 4 * count);
        return out;
    }

    float[] floats(int count, String what) {
        need(4L * count, what);
        float[] out = new float[count];
        in.asFloatBuffer().get(out);
        in.position(in.position() + 4 * count);
        return out;
    }

    /** A UTF-8 string after its byte length ({@code wide}: 4 bytes, otherwise 2). */
    String string(String what, boolean wide) {
        int length = wide ? count(what + " length", 1) : u16(what + " length");
        byte[] utf8 = bytes(length, what);
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(utf8)).toString();
        } catch (CharacterCodingException e) {
            throw new SnapshotFormatException(what + " is not UTF-8");
        }
    }
}
