package io.innerq.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class ScalarKernelsTests {

    // ---- hand-built blocks, hand-computed values ----

    @Test
    void f32ReadsLittleEndianFloats() {
        byte[] bytes = le(4 * 3).putFloat(1.5f).putFloat(-0f).putFloat(Float.MIN_VALUE).array();

        float[] y = dequantize(BlockEncoder.tensor("w", GgmlType.F32, 1, 3, bytes), 0);

        assertThat(y).containsExactly(1.5f, -0f, Float.MIN_VALUE);
        assertThat(Float.floatToRawIntBits(y[1])).isEqualTo(0x80000000);
    }

    @Test
    void f16HandlesSubnormalsSignedZeroInfinityAndNaN() {
        short[] halves = {0x3C00, (short) 0xC000, 0x7BFF, 0x0001, 0x03FF, (short) 0x8000, 0x7C00, (short) 0xFC00,
                0x7E00, 0x3555};
        ByteBuffer b = le(2 * halves.length);
        for (short h : halves) {
            b.putShort(h);
        }

        float[] y = dequantize(BlockEncoder.tensor("w", GgmlType.F16, 1, halves.length, b.array()), 0);

        assertThat(y[0]).isEqualTo(1f);
        assertThat(y[1]).isEqualTo(-2f);
        assertThat(y[2]).isEqualTo(65504f);
        assertThat(y[3]).isEqualTo(0x1p-24f);                 // smallest subnormal
        assertThat(y[4]).isEqualTo(1023 * 0x1p-24f);          // largest subnormal
        assertThat(Float.floatToRawIntBits(y[5])).isEqualTo(0x80000000);
        assertThat(y[6]).isEqualTo(Float.POSITIVE_INFINITY);
        assertThat(y[7]).isEqualTo(Float.NEGATIVE_INFINITY);
        assertThat(y[8]).isNaN();
        assertThat(y[9]).isEqualTo(0.333251953125f);          // 0x3555 = 1365/4096
    }

    @Test
    void bf16IsTheHighHalfOfAFloat() {
        short[] halves = {0x3F80, (short) 0xC040, 0x0001, (short) 0x8000, 0x7F80, 0x7FC0, 0x4049};
        ByteBuffer b = le(2 * halves.length);
        for (short h : halves) {
            b.putShort(h);
        }

        float[] y = dequantize(BlockEncoder.tensor("w", GgmlType.BF16, 1, halves.length, b.array()), 0);

        assertThat(y[0]).isEqualTo(1f);
        assertThat(y[1]).isEqualTo(-3f);
        assertThat(y[2]).isEqualTo(0x1p-133f);                // float subnormal 0x00010000
        assertThat(Float.floatToRawIntBits(y[3])).isEqualTo(0x80000000);
        assertThat(y[4]).isEqualTo(Float.POSITIVE_INFINITY);
        assertThat(y[5]).isNaN();
        assertThat(y[6]).isEqualTo(3.140625f);                // 0x40490000
    }

    @Test
    void q8_0IsCodeTimesScale() {
        ByteBuffer b = le(34).putShort((short) 0x3800); // d = 0.5
        for (int j = 0; j < 32; j++) {
            b.put((byte) (j == 0 ? -128 : j == 1 ? 127 : j - 16));
        }

        float[] y = dequantize(BlockEncoder.tensor("w", GgmlType.Q8_0, 1, 32, b.array()), 0);

        assertThat(y[0]).isEqualTo(-64f);
        assertThat(y[1]).isEqualTo(63.5f);
        assertThat(y[2]).isEqualTo(-7f);
        assertThat(y[16]).isEqualTo(0f);
        assertThat(y[31]).isEqualTo(7.5f);
    }

    @Test
    void q4_0LowNibblesFirstThenHighNibbles() {
        ByteBuffer b = le(18).putShort((short) 0x3400); // d = 0.25
        for (int j = 0; j < 16; j++) {
            b.put((byte) (j == 0 ? 0x1F : j == 15 ? 0x80 : 0x88));
        }

        float[] y = dequantize(BlockEncoder.tensor("w", GgmlType.Q4_0, 1, 32, b.array()), 0);

        assertThat(y[0]).isEqualTo(1.75f);   // (0xF - 8) * 0.25
        assertThat(y[16]).isEqualTo(-1.75f); // (0x1 - 8) * 0.25
        assertThat(y[15]).isEqualTo(-2f);    // (0x0 - 8) * 0.25
        assertThat(y[31]).isEqualTo(0f);     // (0x8 - 8) * 0.25
        assertThat(y[5]).isZero();
    }

    // Q4_K: sub-block scales {1, 2, 3, 4, 17, 33, 50, 63} and mins {0, 5, 10, 20, 21, 40, 62, 7}, packed by hand;
    // sub-blocks 4..7 take their top two bits from bytes 0..7, so they exercise get_scale_min_k4's j >= 4 path.
    private static final int[] Q4K_SCALES = {1, 2, 3, 4, 17, 33, 50, 63};
    private static final int[] Q4K_MINS = {0, 5, 10, 20, 21, 40, 62, 7};
    private static final int[] Q4K_SCALE_BYTES = {0x41, 0x82, 0xC3, 0xC4, 0x40, 0x85, 0xCA, 0x14, 0x51, 0x81, 0xE2,
            0x7F};

    private static byte[] q4kHandBlock() {
        ByteBuffer b = le(144).putShort((short) 0x3C00).putShort((short) 0x3800); // d = 1, dmin = 0.5
        for (int v : Q4K_SCALE_BYTES) {
            b.put((byte) v);
        }
        for (int i = 0; i < 128; i++) {
            b.put((byte) (((i * 7) & 0xF) | ((i * 3 + 1) & 0xF) << 4));
        }
        return b.array();
    }

    @Test
    void q4_KUsesSixBitScalesAndMinsOfEachSubBlock() {
        float[] y = dequantize(BlockEncoder.tensor("w", GgmlType.Q4_K, 1, 256, q4kHandBlock()), 0);

        assertThat(y[1]).isEqualTo(7f);       // sub 0: 1 * 1 * (qs[1] & 0xF = 7) - 0.5 * 0
        assertThat(y[98]).isEqualTo(18f);     // sub 3: 4 * (qs[34] >> 4 = 7) - 0.5 * 20
        assertThat(y[128]).isEqualTo(-10.5f); // sub 4: 17 * (qs[64] & 0xF = 0) - 0.5 * 21
        assertThat(y[163]).isEqualTo(310f);   // sub 5: 33 * (qs[67] >> 4 = 10) - 0.5 * 40
        assertThat(y[197]).isEqualTo(119f);   // sub 6: 50 * (qs[101] & 0xF = 3) - 0.5 * 62
        assertThat(y[255]).isEqualTo(878.5f); // sub 7: 63 * (qs[127] >> 4 = 14) - 0.5 * 7
    }

    @Test
    void q4_KEveryElementFollowsTheLayout() {
        byte[] block = q4kHandBlock();

        float[] y = dequantize(BlockEncoder.tensor("w", GgmlType.Q4_K, 1, 256, block), 0);

        for (int e = 0; e < 256; e++) {
            int sub = e / 32;
            int qsByte = block[16 + 32 * (sub / 2) + e % 32] & 0xFF;
            int code = sub % 2 == 0 ? qsByte & 0xF : qsByte >> 4;
            assertThat(y[e]).as("element %d", e).isEqualTo(Q4K_SCALES[sub] * code - 0.5f * Q4K_MINS[sub]);
        }
    }

    @Test
    void q4_KEncoderPacksScalesAsGgmlDoes() {
        byte[] block = BlockEncoder.q4_KBlock(1f, 0.5f, Q4K_SCALES, Q4K_MINS, new int[256]);

        for (int i = 0; i < 12; i++) {
            assertThat(block[4 + i] & 0xFF).as("scale byte %d", i).isEqualTo(Q4K_SCALE_BYTES[i]);
        }
    }

    // Q6_K: ql[i] = 5i + 3, qh[i] = 11i + 7 (mod 256), scales with negatives, d = 0.5.
    private static final int[] Q6K_SCALES = {1, -1, 2, -2, 3, -3, 4, -4, 5, -5, 6, -6, 7, -7, 127, -128};

    private static byte[] q6kHandBlock() {
        ByteBuffer b = le(210);
        for (int i = 0; i < 128; i++) {
            b.put((byte) (5 * i + 3));
        }
        for (int i = 0; i < 64; i++) {
            b.put((byte) (11 * i + 7));
        }
        for (int s : Q6K_SCALES) {
            b.put((byte) s);
        }
        return b.putShort((short) 0x3800).array();
    }

    @Test
    void q6_KCombinesLowAndHighBitsWithSignedScales() {
        float[] y = dequantize(BlockEncoder.tensor("w", GgmlType.Q6_K, 1, 256, q6kHandBlock()), 0);

        // element: half, l, k -> ql nibble, qh bits -> code - 32, scale index
        assertThat(y[0]).isEqualTo(9.5f);     // 0,0,0: ql[0]=3 lo 3, qh[0]=7 bits0 3 -> 19; sc[0]=1
        assertThat(y[49]).isEqualTo(24f);     // 0,17,1: ql[49]=248 lo 8, qh[17]=194 bits2 0 -> -24; sc[3]=-2
        assertThat(y[69]).isEqualTo(25.5f);   // 0,5,2: ql[5]=28 hi 1, qh[5]=62 bits4 3 -> 17; sc[4]=3
        assertThat(y[127]).isEqualTo(26f);    // 0,31,3: ql[63]=62 hi 3, qh[31]=92 bits6 1 -> -13; sc[7]=-4
        assertThat(y[142]).isEqualTo(-17.5f); // 1,14,0: ql[78]=137 lo 9, qh[46]=1 bits0 1 -> -7; sc[8]=5
        assertThat(y[244]).isEqualTo(768f);   // 1,20,3: ql[116]=71 hi 4, qh[52]=67 bits6 1 -> -12; sc[15]=-128
    }

    @Test
    void q6_KEncoderRoundTripsEveryCode() {
        int[] codes = new int[256];
        for (int e = 0; e < 256; e++) {
            codes[e] = (e * 37) % 64 - 32;
        }
        byte[] block = BlockEncoder.q6_KBlock(0.25f, Q6K_SCALES, codes);

        float[] y = dequantize(BlockEncoder.tensor("w", GgmlType.Q6_K, 1, 256, block), 0);

        for (int e = 0; e < 256; e++) {
            assertThat(y[e]).as("element %d", e).isEqualTo(0.25f * Q6K_SCALES[e / 16] * codes[e]);
        }
    }

    @Test
    void q4_KEncoderRoundTripsEveryCode() {
        int[] codes = new int[256];
        for (int e = 0; e < 256; e++) {
            codes[e] = (e * 11) % 16;
        }
        byte[] block = BlockEncoder.q4_KBlock(0.5f, 0.25f, Q4K_SCALES, Q4K_MINS, codes);

        float[] y = dequantize(BlockEncoder.tensor("w", GgmlType.Q4_K, 1, 256, block), 0);

        for (int e = 0; e < 256; e++) {
            float expected = 0.5f * Q4K_SCALES[e / 32] * codes[e] - 0.25f * Q4K_MINS[e / 32];
            assertThat(y[e]).as("element %d", e).isEqualTo(expected);
        }
    }

    // ---- properties over every type ----

    @ParameterizedTest
    @EnumSource(GgmlType.class)
    void dotRowEqualsDequantizeThenDotExactly(GgmlType type) {
        int rows = 3;
        int cols = 2 * 256;
        Tensor w = BlockEncoder.random(type, rows, cols, 42);
        float[] x = BlockEncoder.randomVector(cols, 7);

        for (int r = 0; r < rows; r++) {
            float[] y = dequantize(w, r);
            float expected = 0f;
            for (int c = 0; c < cols; c++) {
                expected += y[c] * x[c];
            }
            assertThat(ScalarKernels.dotRow(w, r, x)).as("row %d", r).isEqualTo(expected);
        }
    }

    @ParameterizedTest
    @EnumSource(GgmlType.class)
    void eachRowIsReadFromItsOwnBytes(GgmlType type) {
        int cols = 256;
        int rows = 3;
        // Row r holds the constant r + 1, exactly representable in every type.
        float[] values = new float[rows * cols];
        for (int i = 0; i < values.length; i++) {
            values[i] = i / cols + 1;
        }
        Tensor w = BlockEncoder.quantize("w", type, rows, cols, values);
        float[] ones = new float[cols];
        java.util.Arrays.fill(ones, 1f);
        float[] out = new float[rows];

        new ScalarMatVec().matVec(w, ones, out);

        for (int r = 0; r < rows; r++) {
            float[] y = new float[cols + 5];
            ScalarKernels.dequantizeRow(w, r, y, 5);
            assertThat(y[4]).isZero();
            assertThat(y[5]).as("row %d first", r).isCloseTo(r + 1f, within(0.01f * (r + 1)));
            assertThat(y[cols + 4]).as("row %d last", r).isCloseTo(r + 1f, within(0.01f * (r + 1)));
            assertThat(out[r]).as("row %d sum", r).isCloseTo(cols * (r + 1f), within(0.01f * cols * (r + 1)));
        }
    }

    @ParameterizedTest
    @EnumSource(GgmlType.class)
    void quantizedValuesStayNearTheirSource(GgmlType type) {
        int cols = 512;
        float[] values = BlockEncoder.randomVector(cols, 3);
        // Worst-case step per type for values in [-1, 1): half a quantization step, with slack for fp16 scales.
        float tolerance = switch (type) {
            case F32 -> 0f;
            case F16 -> 1f / 2048;
            case BF16 -> 1f / 256;
            case Q8_0 -> 1f / 127;
            case Q4_0 -> 1f / 8 + 1e-3f; // clamping code 16 to 15 costs a whole step
            case Q4_K -> 2f / 15 + 0.05f;
            case Q6_K -> 1f / 32 + 0.02f;
        };

        float[] y = dequantize(BlockEncoder.quantize("w", type, 1, cols, values), 0);

        for (int c = 0; c < cols; c++) {
            assertThat(y[c]).as("element %d", c).isCloseTo(values[c], within(tolerance));
        }
    }

    private static float[] dequantize(Tensor w, int row) {
        float[] y = new float[w.cols()];
        ScalarKernels.dequantizeRow(w, row, y, 0);
        return y;
    }

    private static ByteBuffer le(int bytes) {
        return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }
}
