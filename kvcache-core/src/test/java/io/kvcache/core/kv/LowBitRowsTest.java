package io.kvcache.core.kv;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.offset;

class LowBitRowsTest {

    @Test
    void twoBitRowByHand() {
        // min 0, max 3 -> scale 1; codes 0,1,2,3 -> bits 00 01 10 11 from the low end: 0b11100100
        LowBitRows codec = new LowBitRows(4, 2, 4);
        byte[] row = new byte[codec.bytesPerRow()];
        codec.encode(new float[] {0, 1, 2, 3}, 0, row, 0);
        assertThat(row).containsExactly(0x00, 0x3C, 0x00, 0x00, (byte) 0xE4); // fp16 1.0 = 0x3C00, fp16 0 = 0
        float[] out = new float[4];
        codec.decode(row, 0, out, 0);
        assertThat(out).containsExactly(0, 1, 2, 3);
    }

    @Test
    void threeBitCodesStraddleBytes() {
        // min 0, max 7, scale 1: codes 7,0,5 -> bits 111, 000, 101 at bit offsets 0, 3, 6:
        // byte 0 = 0b01000111 (code 5's low two bits at 6-7), byte 1 = 0b00000001 (its high bit)
        LowBitRows codec = new LowBitRows(3, 3, 3);
        byte[] row = new byte[codec.bytesPerRow()];
        codec.encode(new float[] {7, 0, 5}, 0, row, 0);
        assertThat(codec.bytesPerRow()).isEqualTo(4 + 2);
        assertThat(row[4]).isEqualTo((byte) 0b01000111);
        assertThat(row[5]).isEqualTo((byte) 0b00000001);
        float[] out = new float[3];
        codec.decode(row, 0, out, 0);
        assertThat(out).containsExactly(7, 0, 5);
    }

    @Test
    void bytesPerRowIsGroupsTimesFourPlusPackedCodes() {
        assertThat(new LowBitRows(64, 4, 32).bytesPerRow()).isEqualTo(2 * 4 + 32);
        assertThat(new LowBitRows(64, 3, 32).bytesPerRow()).isEqualTo(2 * 4 + 24);
        assertThat(new LowBitRows(64, 2, 32).bytesPerRow()).isEqualTo(2 * 4 + 16);
        assertThat(new LowBitRows(64, 8, 64).bytesPerRow()).isEqualTo(4 + 64);
        assertThat(new LowBitRows(10, 4, 4).bytesPerRow()).isEqualTo(3 * 4 + 5);
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 3, 4, 8})
    void roundTripWithinHalfAStepOfTheGroupRange(int bits) {
        Random random = new Random(bits);
        LowBitRows codec = new LowBitRows(70, bits, 16); // last group of 6
        float[] row = new float[70];
        float[] out = new float[70];
        byte[] encoded = new byte[codec.bytesPerRow()];
        for (int trial = 0; trial < 200; trial++) {
            for (int i = 0; i < row.length; i++) {
                row[i] = (float) (random.nextGaussian() * 3);
            }
            codec.encode(row, 0, encoded, 0);
            codec.decode(encoded, 0, out, 0);
            for (int g = 0; g < 70; g += 16) {
                float min = Float.POSITIVE_INFINITY;
                float max = Float.NEGATIVE_INFINITY;
                for (int i = g; i < Math.min(70, g + 16); i++) {
                    min = Math.min(min, row[i]);
                    max = Math.max(max, row[i]);
                }
                double step = (max - min) / ((1 << bits) - 1);
                // half a step, plus what fp16 rounding of the minimum and scale can add at the top code
                double bound = step / 2 + Math.ulp(Float.float16ToFloat(Float.floatToFloat16(min))) * 1024 * 1.1
                        + step * ((1 << bits) - 1) / 2048.0;
                for (int i = g; i < Math.min(70, g + 16); i++) {
                    assertThat((double) out[i]).isCloseTo(row[i], offset(bound));
                }
            }
        }
    }

    @Test
    void errorFallsAsBitsRise() {
        double previous = Double.MAX_VALUE;
        for (int bits : new int[] {2, 3, 4, 8}) {
            double error = meanSquaredError(bits);
            assertThat(error).as("%d bits", bits).isLessThan(previous / 3);
            previous = error;
        }
    }

    private static double meanSquaredError(int bits) {
        Random random = new Random(7);
        LowBitRows codec = new LowBitRows(64, bits, 32);
        float[] row = new float[64];
        float[] out = new float[64];
        byte[] encoded = new byte[codec.bytesPerRow()];
        double sum = 0;
        for (int trial = 0; trial < 100; trial++) {
            for (int i = 0; i < row.length; i++) {
                row[i] = (float) random.nextGaussian();
            }
            codec.encode(row, 0, encoded, 0);
            codec.decode(encoded, 0, out, 0);
            for (int i = 0; i < row.length; i++) {
                sum += (out[i] - row[i]) * (out[i] - row[i]);
            }
        }
        return sum / (100 * 64);
    }

    @Test
    void constantGroupsDecodeToTheirFp16Value() {
        LowBitRows codec = new LowBitRows(8, 2, 4);
        float[] row = {0.1f, 0.1f, 0.1f, 0.1f, -3, -3, -3, -3};
        byte[] encoded = new byte[codec.bytesPerRow()];
        float[] out = new float[8];
        codec.encode(row, 0, encoded, 0);
        codec.decode(encoded, 0, out, 0);
        float tenth = Float.float16ToFloat(Float.floatToFloat16(0.1f));
        assertThat(out).containsExactly(tenth, tenth, tenth, tenth, -3, -3, -3, -3);
    }

    @Test
    void badArgumentsAreNamed() {
        assertThatThrownBy(() -> new LowBitRows(8, 5, 4)).hasMessageContaining("bits 5").hasMessageContaining("2, 3, 4, 8");
        assertThatThrownBy(() -> new LowBitRows(8, 4, 0)).hasMessageContaining("group size 0");
    }
}
