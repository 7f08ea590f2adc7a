package io.kvcache.core.kv;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * The row format checked against bytes worked out by hand, and the codec against the error bound of
 * asymmetric quantization: half a step of (max - min) / (2^bits - 1), plus the fp16 rounding of the
 * stored scale and minimum.
 */
class LowBitRowsTest {
    private static final int[] ALL_BITS = {2, 3, 4, 8};

    @Test
    void twoBitRowByHand() {
        // min -1, max 2: scale 3/3 = 1 (fp16 0x3C00), min -1 (fp16 0xBC00).
        // Codes: (-1+1)/1 = 0, (0.4+1)/1 = 1.4 -> 1, 3, 1.9 -> 2; packed from the low bits up:
        // 0 | 1<<2 | 3<<4 | 2<<6 = 0 + 4 + 48 + 128 = 180 = 0xB4.
        LowBitRows rows = new LowBitRows(4, 2, 4);
        byte[] encoded = new byte[rows.bytesPerRow()];
        rows.encode(new float[] {-1f, 0.4f, 2f, 0.9f}, 0, encoded, 0);
        assertThat(encoded).containsExactly(0x00, 0x3C, 0x00, 0xBC, 0xB4);
        assertThat(decode(rows, encoded)).containsExactly(-1f, 0f, 2f, 1f);
    }

    @Test
    void threeBitCodesStraddleBytes() {
        // Values -2 + code/2 for codes 5 3 7 0 6 1 4 2: min -2 (fp16 0xC000), scale 3.5/7 = 0.5 (0x3800).
        // Stream bits (code i at bits 3i..3i+2, low bit first):
        //   byte 0 = bits 0-7:   code0=101 -> b0=1 b1=0 b2=1; code1=011 -> b3=1 b4=1 b5=0; code2=111 -> b6=1 b7=1
        //            = 1+4+8+16+64+128 = 221 = 0xDD (code 2's top bit spills into byte 1)
        //   byte 1 = bits 8-15:  b8=1 (code2); code3=000 -> b9..b11=0; code4=110 -> b12=0 b13=1 b14=1; code5=001 -> b15=1
        //            = 1+32+64+128 = 225 = 0xE1 (code 5's upper two bits spill into byte 2)
        //   byte 2 = bits 16-23: b16=0 b17=0 (code5); code6=100 -> b18=0 b19=0 b20=1; code7=010 -> b21=0 b22=1 b23=0
        //            = 16+64 = 80 = 0x50
        LowBitRows rows = new LowBitRows(8, 3, 8);
        float[] row = {0.5f, -0.5f, 1.5f, -2f, 1f, -1.5f, 0f, -1f};
        byte[] encoded = new byte[rows.bytesPerRow()];
        rows.encode(row, 0, encoded, 0);
        assertThat(encoded).containsExactly(0x00, 0x38, 0x00, 0xC0, 0xDD, 0xE1, 0x50);
        assertThat(decode(rows, encoded)).containsExactly(row);
    }

    @Test
    void symmetricTwoBitRowByHand() {
        // absmax 1.5: covering scale 2*1.5/3 = 1, levels at -1.5, -0.5, 0.5, 1.5: errors 0, 0.1,
        // 0.1, 0.3, squared 0.11. The fitted scale tries 97.5%, 95%, ... 70% of it, rounded up to
        // fp16; 0.9 rounds up to 0.900390625 (fp16 0x3B34: 1844 steps of 2^-11), levels at
        // +-0.4502, +-1.3506, errors 0.1494, 0.0502, 0.1498, 0.1506: squared 0.0700, the least
        // (0.925 gives 0.0706, 0.875 0.0756). Codes round((x + 1.3506) / 0.9004): -1.5 -> 0,
        // -0.4 -> 1.06 -> 1, 0.6 -> 2.17 -> 2, 1.2 -> 2.83 -> 3; packed 0 | 1<<2 | 2<<4 | 3<<6 = 0xE4.
        // No minimum in the header.
        LowBitRows rows = new LowBitRows(4, 2, 4, true);
        byte[] encoded = new byte[rows.bytesPerRow()];
        rows.encode(new float[] {-1.5f, -0.4f, 0.6f, 1.2f}, 0, encoded, 0);
        assertThat(encoded).containsExactly(0x34, 0x3B, 0xE4);
        assertThat(decode(rows, encoded)).containsExactly(-1.3505859375f, -0.4501953125f, 0.4501953125f, 1.3505859375f);
    }

    @Test
    void theFittedScaleClipsALoneLargeValueByHand() {
        // 2 bits, e5m3 scales; absmax 1.5, covering scale 1 (levels +-0.5, +-1.5). The candidates
        // rounded up to e5m3 (3 mantissa bits) are 1, 0.9375, 0.875, 0.8125 and 0.75, with squared
        // errors 0.1719, 0.1055, 0.0781, 0.0898 and 0.1406: 0.875 (fp16 0x3B00, byte 0x76), levels
        // +-0.4375, +-1.3125, clipping 1.5 to 1.3125. Codes round((x + 1.3125) / 0.875): 1.5 -> 3.21
        // -> 3, 1.125 -> 2.79 -> 3, -0.375 -> 1.07 -> 1, 0.375 -> 1.93 -> 2; packed
        // 3 | 3<<2 | 1<<4 | 2<<6 = 0x9F.
        LowBitRows rows = new LowBitRows(4, 2, 4, true, 8);
        byte[] encoded = new byte[rows.bytesPerRow()];
        rows.encode(new float[] {1.5f, 1.125f, -0.375f, 0.375f}, 0, encoded, 0);
        assertThat(encoded).containsExactly(0x76, 0x9F);
        assertThat(decode(rows, encoded)).containsExactly(1.3125f, 1.3125f, -0.4375f, 0.4375f);
    }

    @Test
    void symmetricFourBitRowWithAnE5m3ScaleByHand() {
        // absmax 1: scale 2*1/15 = 0.1333, fp16 0x3044; e5m3 keeps fp16's exponent and 3 mantissa bits,
        // so it rounds up to 1.125 * 2^-3 = 0.140625 (fp16 0x3080, stored byte 0x3080 >> 7 = 0x61).
        // Lowest level -7.5 * 0.140625 = -1.0546875; codes round((x + 1.0546875) / 0.140625):
        // 1 -> 14.61 -> 15, -0.5 -> 3.94 -> 4, 0.25 -> 9.28 -> 9, 0 -> 7.5 -> 8;
        // packed 15 | 4<<4 = 0x4F, 9 | 8<<4 = 0x89: 3 bytes where an fp16 scale takes 4. The smaller
        // e5m3 candidates err more (squared 0.0156 at 0.125, 0.0207 at 0.1171875 against 0.0095).
        LowBitRows rows = new LowBitRows(4, 4, 4, true, 8);
        byte[] encoded = new byte[rows.bytesPerRow()];
        rows.encode(new float[] {1f, -0.5f, 0.25f, 0f}, 0, encoded, 0);
        assertThat(encoded).containsExactly(0x61, 0x4F, 0x89);
        assertThat(decode(rows, encoded)).containsExactly(1.0546875f, -0.4921875f, 0.2109375f, 0.0703125f);
    }

    @Test
    void e5m3ScalesErrNoMoreThanHalfAStepOfAnEighthCoarserScale() {
        SplittableRandom random = new SplittableRandom(23);
        for (int bits : ALL_BITS) {
            LowBitRows rows = new LowBitRows(24, bits, 8, true, 8);
            assertThat(rows.bytesPerRow()).isEqualTo(3 + 24 * bits / 8);
            float[] row = new float[24];
            for (int trial = 0; trial < 200; trial++) {
                for (int i = 0; i < row.length; i++) {
                    row[i] = (float) (random.nextGaussian() * Math.exp(random.nextDouble(-3, 3)));
                }
                byte[] encoded = new byte[rows.bytesPerRow()];
                rows.encode(row, 0, encoded, 0);
                float[] decoded = decode(rows, encoded);
                for (int g = 0; g < 3; g++) {
                    float absMax = 0;
                    for (int i = 8 * g; i < 8 * g + 8; i++) {
                        absMax = Math.max(absMax, Math.abs(row[i]));
                    }
                    // with 3 mantissa bits the covering scale, rounded up, is at most 1/8 above the step
                    // 2*absmax/levels; the fitted one errs no more in all
                    double halfStep = absMax / ((1 << bits) - 1) * (1 + 1.0 / 8) * (1 + 1.0 / 512);
                    assertThat(encoded[g] & 0xFF).as("a finite e5m3 scale").isLessThan(0xF8);
                    assertThat(squaredError(row, decoded, 8 * g, 8)).as("bits %d group %d", bits, g)
                            .isLessThanOrEqualTo(8 * (halfStep + 1e-7) * (halfStep + 1e-7));
                }
            }
        }
    }

    @Test
    void symmetricRowsErrNoMoreThanHalfACoveringStep() {
        SplittableRandom random = new SplittableRandom(17);
        for (int bits : ALL_BITS) {
            LowBitRows rows = new LowBitRows(24, bits, 8, true);
            assertThat(rows.bytesPerRow()).isEqualTo(3 * 2 + 24 * bits / 8);
            float[] row = new float[24];
            for (int trial = 0; trial < 200; trial++) {
                for (int i = 0; i < row.length; i++) {
                    row[i] = (float) (random.nextGaussian() * Math.exp(random.nextDouble(-3, 3)));
                }
                byte[] encoded = new byte[rows.bytesPerRow()];
                rows.encode(row, 0, encoded, 0);
                float[] decoded = decode(rows, encoded);
                for (int g = 0; g < 3; g++) {
                    float absMax = 0;
                    for (int i = 8 * g; i < 8 * g + 8; i++) {
                        absMax = Math.max(absMax, Math.abs(row[i]));
                    }
                    // the covering step is 2*absmax/levels (its fp16 at most 2^-10 above), every value
                    // within half of it; the fitted scale errs no more in all
                    double halfStep = absMax / ((1 << bits) - 1) * (1 + 1.0 / 512);
                    assertThat(squaredError(row, decoded, 8 * g, 8)).as("bits %d group %d", bits, g)
                            .isLessThanOrEqualTo(8 * (halfStep + 1e-7) * (halfStep + 1e-7));
                    for (int i = 8 * g; i < 8 * g + 8; i++) {
                        // a clipped value: at most 30% of absmax (the smallest scale tried is 70% of the covering one)
                        assertThat((double) decoded[i]).as("bits %d value %d", bits, i).isCloseTo(row[i], within(0.3 * absMax + halfStep));
                    }
                }
            }
        }
    }

    @Test
    void bytesPerRowCountedByHand() {
        // 64 wide in groups of 32: 2 groups * 4 header bytes + 64*bits/8 code bytes.
        assertThat(new LowBitRows(64, 2, 32).bytesPerRow()).isEqualTo(8 + 16);
        assertThat(new LowBitRows(64, 3, 32).bytesPerRow()).isEqualTo(8 + 24);
        assertThat(new LowBitRows(64, 4, 32).bytesPerRow()).isEqualTo(8 + 32);
        assertThat(new LowBitRows(64, 8, 32).bytesPerRow()).isEqualTo(8 + 64);
        // 10 wide in groups of 4: groups of 4, 4 and 2 -> 12 header bytes; 10*bits bits rounded up to bytes.
        assertThat(new LowBitRows(10, 2, 4).bytesPerRow()).isEqualTo(12 + 3);  // 20 bits
        assertThat(new LowBitRows(10, 3, 4).bytesPerRow()).isEqualTo(12 + 4);  // 30 bits
        assertThat(new LowBitRows(10, 4, 4).bytesPerRow()).isEqualTo(12 + 5);  // 40 bits
        assertThat(new LowBitRows(10, 8, 4).bytesPerRow()).isEqualTo(12 + 10); // 80 bits
        // A group wider than the row is one group.
        assertThat(new LowBitRows(5, 3, 64).bytesPerRow()).isEqualTo(4 + 2);   // 15 bits
        // Symmetric: 2 header bytes a group (head dims 8, 64, 128 in groups of up to 32).
        assertThat(new LowBitRows(8, 4, 8, true).bytesPerRow()).isEqualTo(2 + 4);
        assertThat(new LowBitRows(64, 4, 32, true).bytesPerRow()).isEqualTo(4 + 32);
        assertThat(new LowBitRows(128, 3, 32, true).bytesPerRow()).isEqualTo(8 + 48);
        // e5m3 scales: 1 header byte a group; a q4 row of head dim 16 is 9 bytes, 4.5 bits a value.
        assertThat(new LowBitRows(16, 4, 16, true, 8).bytesPerRow()).isEqualTo(1 + 8);
        assertThat(new LowBitRows(128, 4, 32, true, 8).bytesPerRow()).isEqualTo(4 + 64);
    }

    @Test
    void badArgumentsNameTheValueAndTheAllowedOnes() {
        assertThatThrownBy(() -> new LowBitRows(64, 5, 32)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("5").hasMessageContaining("2, 3, 4 or 8");
        assertThatThrownBy(() -> new LowBitRows(64, 4, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("0").hasMessageContaining("at least 1");
        assertThatThrownBy(() -> new LowBitRows(0, 4, 32)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("width");
        assertThatThrownBy(() -> new LowBitRows(16, 4, 16, false, 8)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("8 in symmetric rows").hasMessageContaining("asymmetric");
        assertThatThrownBy(() -> new LowBitRows(16, 4, 16, true, 12)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("12");
    }

    @Test
    void nonFiniteValuesAreRejected() {
        LowBitRows rows = new LowBitRows(4, 4, 2);
        byte[] encoded = new byte[rows.bytesPerRow()];
        assertThatThrownBy(() -> rows.encode(new float[] {0f, 1f, Float.NaN, 2f}, 0, encoded, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("non-finite");
        assertThatThrownBy(() -> rows.encode(new float[] {0f, 1e6f, 2f, 3f}, 0, encoded, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("fp16");
        // absmax 465000: the scale 62000 fits fp16 (at most 65504), but rounded up to e5m3 it is
        // past 61440, the largest finite e5m3 (fp16 0x7B80), so the group is refused
        LowBitRows compact = new LowBitRows(2, 4, 2, true, 8);
        assertThatThrownBy(() -> compact.encode(new float[] {465000f, 1f}, 0, new byte[compact.bytesPerRow()], 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("fp16");
        new LowBitRows(2, 4, 2, true).encode(new float[] {465000f, 1f}, 0, new byte[compact.bytesPerRow() + 1], 0);
    }

    /**
     * An e5m3 byte from 0xF8 up has fp16's exponent of all ones: infinity or NaN, which no encoded
     * row holds; restored rows (a snapshot's bytes) with one are refused.
     */
    @Test
    void restoredRowsWithAnInfiniteE5m3ScaleAreRefused() {
        QuantizedRows rows = new QuantizedRows(new LowBitRows(16, 4, 16, true, 8));
        byte[] stored = new byte[9];
        stored[0] = 0x78; // 0x78 << 7 = fp16 0x3C00: a scale of 1
        rows.appendStored(stored, 1);
        stored[0] = (byte) 0xF8;
        assertThatThrownBy(() -> rows.appendStored(stored, 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not finite");
        assertThat(rows.rows()).isEqualTo(1);
    }

    /** Shapes where groups begin and end inside bytes, and the last group is short. */
    @ParameterizedTest
    @ValueSource(ints = {2, 3, 4, 8})
    void roundTripStaysWithinHalfAStep(int bits) {
        int levels = (1 << bits) - 1;
        SplittableRandom random = new SplittableRandom(bits);
        int[][] shapes = {{64, 32}, {128, 64}, {67, 5}, {10, 4}, {13, 3}, {9, 1}, {7, 64}};
        for (int[] shape : shapes) {
            int width = shape[0];
            int groupSize = shape[1];
            LowBitRows rows = new LowBitRows(width, bits, groupSize);
            for (int n = 0; n < 200; n++) {
                float[] row = randomRow(random, width);
                float[] decoded = decode(rows, encode(rows, row));
                for (int lo = 0; lo < width; lo += groupSize) {
                    int hi = Math.min(lo + groupSize, width);
                    float min = min(row, lo, hi);
                    float max = max(row, lo, hi);
                    double maxAbs = Math.max(Math.abs(min), Math.abs(max));
                    // fp16 keeps 11 significant bits, so rounding the minimum and the scale moves a value by at most 2^-10 of
                    // the group's magnitude; tiny groups fall among fp16's subnormals, whose spacing is 2^-24.
                    double bound = (max - min) / (2.0 * levels) + Math.scalb(maxAbs, -10) + 0x1p-24;
                    for (int i = lo; i < hi; i++) {
                        assertThat((double) decoded[i]).as("%d bits, %dx%d, value %d", bits, width, groupSize, i)
                                .isCloseTo(row[i], within(bound));
                    }
                }
            }
        }
    }

    @Test
    void errorFallsAsBitsRise() {
        double[] mse = new double[ALL_BITS.length];
        for (int b = 0; b < ALL_BITS.length; b++) {
            mse[b] = meanSquaredError(new LowBitRows(128, ALL_BITS[b], 32), new SplittableRandom(7));
        }
        // Uniform quantization error is step^2/12 and the step shrinks by (2^b-1)/(2^(b+1)-1): about 4x per bit.
        assertThat(mse[0] / mse[1]).isGreaterThan(4);   // 2 -> 3 bits, (7/3)^2 = 5.4 expected
        assertThat(mse[1] / mse[2]).isGreaterThan(3.5); // 3 -> 4 bits, (15/7)^2 = 4.6 expected
        assertThat(mse[2] / mse[3]).isGreaterThan(100); // 4 -> 8 bits, (255/15)^2 = 289 expected
    }

    @Test
    void constantGroupsDecodeToTheirFp16Value() {
        for (int bits : ALL_BITS) {
            LowBitRows rows = new LowBitRows(12, bits, 4);
            // Groups: 0.1 (not an fp16 value), -3 (exact), and 1e-6 (an fp16 subnormal).
            float[] row = {0.1f, 0.1f, 0.1f, 0.1f, -3f, -3f, -3f, -3f, 1e-6f, 1e-6f, 1e-6f, 1e-6f};
            float[] decoded = decode(rows, encode(rows, row));
            for (int i = 0; i < row.length; i++) {
                assertThat(decoded[i]).as("%d bits, value %d", bits, i)
                        .isEqualTo(Float.float16ToFloat(Float.floatToFloat16(row[i])));
            }
        }
    }

    @Test
    void codecTouchesOnlyItsOwnSlice() {
        for (int bits : ALL_BITS) {
            LowBitRows rows = new LowBitRows(21, bits, 8);
            float[] row = randomRow(new SplittableRandom(bits), 21);
            byte[] encoded = new byte[rows.bytesPerRow() + 10];
            Arrays.fill(encoded, (byte) 0x5A);
            rows.encode(row, 0, encoded, 3);
            assertThat(Arrays.copyOfRange(encoded, 0, 3)).containsOnly(0x5A);
            assertThat(Arrays.copyOfRange(encoded, 3 + rows.bytesPerRow(), encoded.length)).containsOnly(0x5A);
            float[] decoded = new float[21 + 9];
            Arrays.fill(decoded, 42f);
            rows.decode(encoded, 3, decoded, 4);
            assertThat(Arrays.copyOfRange(decoded, 4, 25)).containsExactly(decode(rows, Arrays.copyOfRange(encoded, 3, 3 + rows.bytesPerRow())));
            assertThat(Arrays.copyOfRange(decoded, 0, 4)).containsOnly(42f);
            assertThat(Arrays.copyOfRange(decoded, 25, decoded.length)).containsOnly(42f);
        }
    }

    /**
     * The vector and unrolled unpacking agree exactly with reading the format bit by bit, as the class
     * comment describes it, for groups that start and end anywhere within a byte. Rows lie back to back,
     * as in a cache, so that the vector loads (which read past a row's codes) are taken too.
     */
    @ParameterizedTest
    @ValueSource(ints = {2, 3, 4, 8})
    void decodeMatchesABitByBitReading(int bits) {
        SplittableRandom random = new SplittableRandom(100 + bits);
        int[] groupSizes = {1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 13, 16, 17, 20, 31, 32, 33, 64, 128};
        int[] widths = {1, 2, 3, 5, 8, 13, 16, 24, 31, 40, 64, 67, 100, 128, 150};
        int count = 3;
        for (int groupSize : groupSizes) {
            for (int width : widths) {
                LowBitRows rows = new LowBitRows(width, bits, groupSize);
                int size = rows.bytesPerRow();
                byte[] encoded = new byte[count * size];
                for (int r = 0; r < count; r++) {
                    rows.encode(randomRow(random, width), 0, encoded, r * size);
                }
                float[] decoded = new float[count * width];
                for (int r = 0; r < count; r++) {
                    rows.decode(encoded, r * size, decoded, r * width);
                    float[] expected = readBitByBit(Arrays.copyOfRange(encoded, r * size, (r + 1) * size), width, bits, groupSize);
                    assertThat(Arrays.copyOfRange(decoded, r * width, (r + 1) * width)).as("%dx%d, row %d", width, groupSize, r)
                            .containsExactly(expected);
                }
            }
        }
    }

    private static float[] readBitByBit(byte[] encoded, int width, int bits, int groupSize) {
        int groups = (width + groupSize - 1) / groupSize;
        float[] out = new float[width];
        for (int i = 0; i < width; i++) {
            int header = 4 * (i / groupSize);
            float scale = Float.float16ToFloat((short) ((encoded[header] & 0xFF) | (encoded[header + 1] & 0xFF) << 8));
            float min = Float.float16ToFloat((short) ((encoded[header + 2] & 0xFF) | (encoded[header + 3] & 0xFF) << 8));
            int code = 0;
            for (int k = 0; k < bits; k++) {
                int bit = i * bits + k;
                code |= (encoded[4 * groups + bit / 8] >> (bit % 8) & 1) << k;
            }
            out[i] = min + code * scale;
        }
        return out;
    }

    private static double meanSquaredError(LowBitRows rows, SplittableRandom random) {
        double sum = 0;
        for (int r = 0; r < 500; r++) {
            float[] row = new float[rows.width()];
            for (int i = 0; i < row.length; i++) {
                row[i] = (float) random.nextGaussian();
            }
            float[] decoded = decode(rows, encode(rows, row));
            for (int i = 0; i < row.length; i++) {
                sum += Math.pow(decoded[i] - row[i], 2);
            }
        }
        return sum / (500.0 * rows.width());
    }

    /** Gaussian values of a random magnitude and offset, like keys and values of different heads. */
    private static float[] randomRow(SplittableRandom random, int width) {
        float[] row = new float[width];
        double sigma = Math.pow(10, random.nextDouble(-2, 1.5));
        double offset = random.nextDouble(-1, 1) * sigma;
        for (int i = 0; i < width; i++) {
            row[i] = (float) (offset + sigma * random.nextGaussian());
        }
        return row;
    }

    private static byte[] encode(LowBitRows rows, float[] row) {
        byte[] encoded = new byte[rows.bytesPerRow()];
        rows.encode(row, 0, encoded, 0);
        return encoded;
    }

    private static float[] decode(LowBitRows rows, byte[] encoded) {
        float[] decoded = new float[rows.width()];
        rows.decode(encoded, 0, decoded, 0);
        return decoded;
    }

    private static float min(float[] x, int lo, int hi) {
        float m = x[lo];
        for (int i = lo + 1; i < hi; i++) {
            m = Math.min(m, x[i]);
        }
        return m;
    }

    private static float max(float[] x, int lo, int hi) {
        float m = x[lo];
        for (int i = lo + 1; i < hi; i++) {
            m = Math.max(m, x[i]);
        }
        return m;
    }

    private static double squaredError(float[] row, float[] decoded, int from, int n) {
        double sum = 0;
        for (int i = from; i < from + n; i++) {
            sum += (double) (decoded[i] - row[i]) * (decoded[i] - row[i]);
        }
        return sum;
    }
}
