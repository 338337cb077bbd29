package io.innerq.tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * Encodes floats into a GGML storage type, block by block, as llama.cpp's reference row quantizers do
 * ({@code quantize_row_q8_0_ref}, {@code quantize_row_q4_0_ref}; fp16 and bf16 rounded to nearest even), so a row
 * encoded here has the bytes llama.cpp would write for it. {@link ScalarKernels#dequantizeRow} is the inverse, up to
 * the rounding of each type. The K-quants are not encoded.
 */
public final class TensorEncoder {

    /** The types this class encodes. */
    public static final List<GgmlType> TYPES = List.of(GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0,
            GgmlType.Q4_0);

    private TensorEncoder() {
    }

    /**
     * Encodes {@code x[from .. from + n)} (a whole number of {@code type}'s blocks) at {@code out}'s position,
     * advancing it by {@code type.bytesFor(n)}; {@code out} is written little-endian whatever its byte order.
     */
    public static void encode(GgmlType type, float[] x, int from, int n, ByteBuffer out) {
        if (n % type.blockSize() != 0) {
            throw new IllegalArgumentException("%d elements are not a whole number of %s blocks of %d"
                    .formatted(n, type, type.blockSize()));
        }
        ByteOrder order = out.order();
        out.order(ByteOrder.LITTLE_ENDIAN);
        try {
            switch (type) {
                case F32 -> {
                    for (int i = from; i < from + n; i++) {
                        out.putFloat(x[i]);
                    }
                }
                case F16 -> {
                    for (int i = from; i < from + n; i++) {
                        out.putShort(Float.floatToFloat16(x[i]));
                    }
                }
                case BF16 -> {
                    for (int i = from; i < from + n; i++) {
                        out.putShort(bf16(x[i]));
                    }
                }
                case Q8_0 -> {
                    for (int i = from; i < from + n; i += 32) {
                        q8_0(x, i, out);
                    }
                }
                case Q4_0 -> {
                    for (int i = from; i < from + n; i += 32) {
                        q4_0(x, i, out);
                    }
                }
                case Q4_K, Q6_K -> throw new IllegalArgumentException(
                        "%s is not encoded; the types encoded are %s".formatted(type, TYPES));
            }
        } finally {
            out.order(order);
        }
    }

    /** {@code x} (a whole number of blocks) encoded as {@code type}. */
    public static byte[] encode(GgmlType type, float[] x) {
        byte[] bytes = new byte[Math.toIntExact(type.bytesFor(x.length))];
        encode(type, x, 0, x.length, ByteBuffer.wrap(bytes));
        return bytes;
    }

    /** BF16 bits of {@code v}, rounded to nearest even; a NaN stays a (quiet) NaN. */
    public static short bf16(float v) {
        int bits = Float.floatToRawIntBits(v);
        if (Float.isNaN(v)) {
            return (short) ((bits >>> 16) | 0x40);
        }
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }

    // Q8_0: fp16 d = max|x| / 127; qs[j] = round(x[j] / d), half away from zero.
    private static void q8_0(float[] x, int at, ByteBuffer out) {
        float amax = 0;
        for (int j = 0; j < 32; j++) {
            amax = Math.max(amax, Math.abs(x[at + j]));
        }
        float d = amax / 127;
        float id = d != 0 ? 1 / d : 0;
        out.putShort(Float.floatToFloat16(d));
        for (int j = 0; j < 32; j++) {
            float v = x[at + j] * id;
            out.put((byte) Math.copySign(Math.round(Math.abs(v)), v));
        }
    }

    // Q4_0: d = m / -8 where m is the value of largest magnitude (so m itself is code 0); fp16 d;
    // qs[j] = code j | code j+16 << 4, code = min(15, trunc(x / d + 8.5)).
    private static void q4_0(float[] x, int at, ByteBuffer out) {
        float amax = 0;
        float max = 0;
        for (int j = 0; j < 32; j++) {
            float v = x[at + j];
            if (amax < Math.abs(v)) {
                amax = Math.abs(v);
                max = v;
            }
        }
        float d = max / -8;
        float id = d != 0 ? 1 / d : 0;
        out.putShort(Float.floatToFloat16(d));
        for (int j = 0; j < 16; j++) {
            int lo = Math.min(15, (int) (x[at + j] * id + 8.5f));
            int hi = Math.min(15, (int) (x[at + 16 + j] * id + 8.5f));
            out.put((byte) (lo | hi << 4));
        }
    }
}
