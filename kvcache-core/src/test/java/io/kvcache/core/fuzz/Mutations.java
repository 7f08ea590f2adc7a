package io.kvcache.core.fuzz;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Mutations for binary and text inputs: bit flips, boundary numbers written over fields, spans
 * deleted, duplicated or spliced from another seed, dictionary snippets inserted.
 */
final class Mutations {
    /** Numbers at the edges of the ranges the parsers check. */
    private static final long[] INTERESTING = {0, 1, -1, 2, 3, 4, 8, 16, 31, 32, 64, 127, 128, 255, 256, 511, 4096, 65535,
            65536, Integer.MAX_VALUE, Integer.MIN_VALUE, 0xFFFFFFFFL, (1L << 29) + 8, 1L << 31, 1L << 32, 1L << 40,
            Long.MAX_VALUE, Long.MIN_VALUE, Long.MAX_VALUE - 31, 2_000_000_000L};

    private Mutations() {
    }

    /**
     * One to four mutations of {@code seed}; positions fall in the first {@code hotBytes} bytes nine
     * times in ten (where a model file's metadata and tensor table are).
     */
    static byte[] bytes(byte[] seed, List<byte[]> seeds, Random random, int hotBytes) {
        byte[] b = seed.clone();
        int ops = 1 + random.nextInt(4);
        for (int op = 0; op < ops && b.length > 0; op++) {
            int range = random.nextInt(10) < 9 ? Math.min(b.length, hotBytes) : b.length;
            int at = random.nextInt(range);
            switch (random.nextInt(8)) {
                case 0 -> b[at] ^= (byte) (1 << random.nextInt(8));
                case 1 -> b[at] = (byte) random.nextInt(256);
                case 2, 3 -> {
                    long v = INTERESTING[random.nextInt(INTERESTING.length)];
                    int width = random.nextBoolean() ? 8 : 4;
                    if (at + width <= b.length) {
                        ByteBuffer buf = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
                        if (width == 8) {
                            buf.putLong(at, v);
                        } else {
                            buf.putInt(at, (int) v);
                        }
                    }
                }
                case 4 -> {
                    int len = Math.min(b.length - at, 1 + random.nextInt(64));
                    byte[] shorter = new byte[b.length - len];
                    System.arraycopy(b, 0, shorter, 0, at);
                    System.arraycopy(b, at + len, shorter, at, b.length - at - len);
                    b = shorter;
                }
                case 5 -> {
                    int len = Math.min(b.length - at, 1 + random.nextInt(64));
                    byte[] longer = Arrays.copyOf(b, b.length + len);
                    System.arraycopy(b, at, longer, at + len, b.length - at);
                    b = longer;
                }
                case 6 -> b = Arrays.copyOf(b, at + 1);
                default -> {
                    byte[] other = seeds.get(random.nextInt(seeds.size()));
                    int from = random.nextInt(Math.max(1, Math.min(other.length, hotBytes)));
                    int len = Math.min(Math.min(other.length - from, b.length - at), 1 + random.nextInt(256));
                    System.arraycopy(other, from, b, at, Math.max(0, len));
                }
            }
        }
        return b;
    }

    /** One to four mutations of a text: characters flipped, spans cut or doubled, numbers pushed to extremes, snippets inserted. */
    static String text(String seed, List<String> seeds, Random random, List<String> dictionary) {
        StringBuilder s = new StringBuilder(seed);
        int ops = 1 + random.nextInt(4);
        for (int op = 0; op < ops; op++) {
            int at = s.isEmpty() ? 0 : random.nextInt(s.length() + 1);
            switch (random.nextInt(7)) {
                case 0, 1 -> s.insert(at, dictionary.get(random.nextInt(dictionary.size())));
                case 2 -> {
                    int end = Math.min(s.length(), at + 1 + random.nextInt(200));
                    s.delete(at, end);
                }
                case 3 -> {
                    int end = Math.min(s.length(), at + 1 + random.nextInt(200));
                    s.insert(at, s.substring(at, end));
                }
                case 4 -> {
                    if (at < s.length()) {
                        s.setCharAt(at, (char) (s.charAt(at) ^ (1 << random.nextInt(7))));
                    }
                }
                case 5 -> {
                    int digit = indexOfDigit(s, at);
                    if (digit >= 0) {
                        int end = digit;
                        while (end < s.length() && Character.isDigit(s.charAt(end))) {
                            end++;
                        }
                        s.replace(digit, end, Long.toString(INTERESTING[random.nextInt(INTERESTING.length)]));
                    }
                }
                default -> {
                    String other = seeds.get(random.nextInt(seeds.size()));
                    if (!other.isEmpty()) {
                        int from = random.nextInt(other.length());
                        s.insert(at, other, from, Math.min(other.length(), from + 1 + random.nextInt(300)));
                    }
                }
            }
        }
        return s.toString();
    }

    private static int indexOfDigit(CharSequence s, int from) {
        for (int i = from; i < s.length(); i++) {
            if (Character.isDigit(s.charAt(i))) {
                return i;
            }
        }
        return -1;
    }
}
