package io.innerq.tensor;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class TensorEncoderTests {

    private static float[] decode(GgmlType type, byte[] bytes, int n) {
        var t = new Tensor("t", type, new long[] {n}, MemorySegment.ofArray(bytes));
        float[] out = new float[n];
        ScalarKernels.dequantizeRow(t, 0, out, 0);
        return out;
    }

    @Test
    void q4_0BlockHasLlamaCppsLayout() {
        float[] x = new float[32];
        for (int j = 0; j < 32; j++) {
            x[j] = j - 16; // largest magnitude: -16, so d = 2 and -16 is code 0
        }
        byte[] b = TensorEncoder.encode(GgmlType.Q4_0, x);
        assertThat(b).hasSize(18);
        assertThat(Float.float16ToFloat((short) (b[0] & 0xff | b[1] << 8))).isEqualTo(2f);
        // code = min(15, trunc(x / 2 + 8.5)): element j (< 16) in the low nibble, j + 16 in the high one
        for (int j = 0; j < 16; j++) {
            int lo = Math.min(15, (int) (x[j] / 2 + 8.5f));
            int hi = Math.min(15, (int) (x[j + 16] / 2 + 8.5f));
            assertThat(b[2 + j] & 0xff).as("byte %d", j).isEqualTo(lo | hi << 4);
        }
        assertThat(decode(GgmlType.Q4_0, b, 32)[0]).isEqualTo(-16f);
    }

    @Test
    void q8_0RoundsHalfAwayFromZero() {
        float[] x = new float[32];
        x[0] = 127; // d = 1
        x[1] = 2.5f;
        x[2] = -2.5f;
        x[3] = -0.5f;
        byte[] b = TensorEncoder.encode(GgmlType.Q8_0, x);
        assertThat(Float.float16ToFloat((short) (b[0] & 0xff | b[1] << 8))).isEqualTo(1f);
        assertThat(new byte[] {b[2], b[3], b[4], b[5]}).containsExactly(127, 3, -3, -1);
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16", "BF16", "Q8_0", "Q4_0"})
    void decodingGivesTheValuesBackWithinTheTypesRounding(GgmlType type) {
        float[] x = BlockEncoder.randomVector(4096, 7);
        for (int i = 0; i < x.length; i++) {
            x[i] *= 0.05f; // weights of a 400-column matrix
        }
        float[] y = decode(type, TensorEncoder.encode(type, x), x.length);
        for (int block = 0; block < x.length; block += 32) {
            float max = 0;
            for (int j = block; j < block + 32; j++) {
                max = Math.max(max, Math.abs(x[j]));
            }
            double tolerance = switch (type) {
                case F32 -> 0;
                case F16 -> max * 0x1p-11;
                case BF16 -> max * 0x1p-8;
                case Q8_0 -> max / 127 * 0.57;   // half a step, plus up to 127 times the fp16 rounding of d
                case Q4_0 -> max / 8 * 1.01;     // a whole step at the far end: code 16 is clamped to 15
                default -> throw new AssertionError(type);
            };
            for (int j = block; j < block + 32; j++) {
                assertThat((double) y[j]).as("%s element %d", type, j).isCloseTo(x[j], within(tolerance));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16", "BF16"})
    void floatTypesMatchTheTestEncoder(GgmlType type) {
        float[] x = BlockEncoder.randomVector(256, 3);
        assertThat(TensorEncoder.encode(type, x)).isEqualTo(BlockEncoder.encode(type, x));
    }

    @Test
    void writesLittleEndianAtThePositionAndKeepsTheBufferOrder() {
        ByteBuffer out = ByteBuffer.allocate(4 + 34).order(ByteOrder.BIG_ENDIAN).position(4);
        float[] x = new float[40];
        Arrays.fill(x, 1f);
        TensorEncoder.encode(GgmlType.Q8_0, x, 8, 32, out);
        assertThat(out.position()).isEqualTo(38);
        assertThat(out.order()).isEqualTo(ByteOrder.BIG_ENDIAN);
        assertThat(out.get(4)).isEqualTo((byte) 0x08); // fp16 of 1/127 is 0x2008, low byte first
        assertThat(out.get(5)).isEqualTo((byte) 0x20);
    }

    @Test
    void refusesPartialBlocksAndKQuants() {
        assertThatThrownBy(() -> TensorEncoder.encode(GgmlType.Q4_0, new float[48]))
                .hasMessageContaining("48 elements are not a whole number of Q4_0 blocks of 32");
        assertThatThrownBy(() -> TensorEncoder.encode(GgmlType.Q4_K, new float[256]))
                .hasMessageContaining("Q4_K is not encoded; the types encoded are [F32, F16, BF16, Q8_0, Q4_0]");
    }
}
