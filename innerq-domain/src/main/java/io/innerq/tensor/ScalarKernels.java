package io.innerq.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Scalar reference kernels for every {@link GgmlType}: plain loops that follow GGML's block definitions
 * ({@code ggml-quants.c}, little-endian). They define what the vectorized and GPU kernels must compute.
 *
 * <p>{@link #dotRow} computes each weight exactly as {@link #dequantizeRow} does and sums {@code w * x} in column
 * order in a float, so it equals dequantize-then-dot bit for bit.
 */
public final class ScalarKernels {

    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    // Byte offsets inside a block.
    static final int Q4_K_SCALES = 4;   // after fp16 d, fp16 dmin: uint8 scales[12]
    static final int Q4_K_QS = 16;      // uint8 qs[128]: two 4-bit codes per byte
    static final int Q6_K_QH = 128;     // after uint8 ql[128]: uint8 qh[64], 2 high bits per code
    static final int Q6_K_SCALES = 192; // int8 scales[16]
    static final int Q6_K_D = 208;      // fp16 d

    private ScalarKernels() {
    }

    /** Writes row {@code row} of {@code w} as floats into {@code out[offset .. offset + cols)}. */
    public static void dequantizeRow(Tensor w, int row, float[] out, int offset) {
        MemorySegment data = w.data();
        long base = row * w.rowBytes();
        int cols = w.cols();
        GgmlType type = w.type();
        switch (type) {
            case F32 -> {
                for (int c = 0; c < cols; c++) {
                    out[offset + c] = data.get(F32, base + 4L * c);
                }
            }
            case F16 -> {
                for (int c = 0; c < cols; c++) {
                    out[offset + c] = f16(data, base + 2L * c);
                }
            }
            case BF16 -> {
                for (int c = 0; c < cols; c++) {
                    out[offset + c] = bf16(data, base + 2L * c);
                }
            }
            case Q8_0, Q4_0, Q4_K, Q6_K -> {
                int blocks = cols / type.blockSize();
                for (int b = 0; b < blocks; b++) {
                    long block = base + (long) b * type.blockBytes();
                    int y = offset + b * type.blockSize();
                    switch (type) {
                        case Q8_0 -> dequantizeQ8_0(data, block, out, y);
                        case Q4_0 -> dequantizeQ4_0(data, block, out, y);
                        case Q4_K -> dequantizeQ4_K(data, block, out, y);
                        case Q6_K -> dequantizeQ6_K(data, block, out, y);
                        default -> throw new AssertionError(type);
                    }
                }
            }
        }
    }

    /** The dot product of row {@code row} of {@code w} with {@code x[0 .. cols)}. Allocates nothing. */
    public static float dotRow(Tensor w, int row, float[] x) {
        MemorySegment data = w.data();
        long base = row * w.rowBytes();
        int cols = w.cols();
        GgmlType type = w.type();
        float sum = 0f;
        switch (type) {
            case F32 -> {
                for (int c = 0; c < cols; c++) {
                    sum += data.get(F32, base + 4L * c) * x[c];
                }
            }
            case F16 -> {
                for (int c = 0; c < cols; c++) {
                    sum += f16(data, base + 2L * c) * x[c];
                }
            }
            case BF16 -> {
                for (int c = 0; c < cols; c++) {
                    sum += bf16(data, base + 2L * c) * x[c];
                }
            }
            case Q8_0, Q4_0, Q4_K, Q6_K -> {
                int blocks = cols / type.blockSize();
                for (int b = 0; b < blocks; b++) {
                    long block = base + (long) b * type.blockBytes();
                    int xi = b * type.blockSize();
                    sum = switch (type) {
                        case Q8_0 -> dotQ8_0(data, block, x, xi, sum);
                        case Q4_0 -> dotQ4_0(data, block, x, xi, sum);
                        case Q4_K -> dotQ4_K(data, block, x, xi, sum);
                        case Q6_K -> dotQ6_K(data, block, x, xi, sum);
                        default -> throw new AssertionError(type);
                    };
                }
            }
        }
        return sum;
    }

    static float f16(MemorySegment data, long offset) {
        return Float.float16ToFloat(data.get(I16, offset));
    }

    static float bf16(MemorySegment data, long offset) {
        return Float.intBitsToFloat(data.get(I16, offset) << 16);
    }

    static int u8(MemorySegment data, long offset) {
        return data.get(ValueLayout.JAVA_BYTE, offset) & 0xFF;
    }

    static int i8(MemorySegment data, long offset) {
        return data.get(ValueLayout.JAVA_BYTE, offset);
    }

    // Q8_0: fp16 d; int8 qs[32]. y[j] = qs[j] * d.

    private static void dequantizeQ8_0(MemorySegment data, long block, float[] y, int yi) {
        float d = f16(data, block);
        for (int j = 0; j < 32; j++) {
            y[yi + j] = i8(data, block + 2 + j) * d;
        }
    }

    private static float dotQ8_0(MemorySegment data, long block, float[] x, int xi, float sum) {
        float d = f16(data, block);
        for (int j = 0; j < 32; j++) {
            sum += i8(data, block + 2 + j) * d * x[xi + j];
        }
        return sum;
    }

    // Q4_0: fp16 d; uint8 qs[16]. y[j] = ((qs[j] & 0xF) - 8) * d, y[j + 16] = ((qs[j] >> 4) - 8) * d.

    private static void dequantizeQ4_0(MemorySegment data, long block, float[] y, int yi) {
        float d = f16(data, block);
        for (int j = 0; j < 16; j++) {
            int q = u8(data, block + 2 + j);
            y[yi + j] = ((q & 0xF) - 8) * d;
            y[yi + j + 16] = ((q >> 4) - 8) * d;
        }
    }

    private static float dotQ4_0(MemorySegment data, long block, float[] x, int xi, float sum) {
        float d = f16(data, block);
        for (int j = 0; j < 16; j++) {
            sum += ((u8(data, block + 2 + j) & 0xF) - 8) * d * x[xi + j];
        }
        for (int j = 0; j < 16; j++) {
            sum += ((u8(data, block + 2 + j) >> 4) - 8) * d * x[xi + j + 16];
        }
        return sum;
    }

    // Q4_K: fp16 d, fp16 dmin, uint8 scales[12] (eight 6-bit scales and eight 6-bit mins), uint8 qs[128].
    // Sub-block j (32 elements): y = d * scale(j) * q - dmin * min(j). Chunk c of 64 elements uses sub-blocks 2c
    // (low nibbles of qs[32c .. 32c + 32)) and 2c + 1 (high nibbles of the same bytes).

    /** The 6-bit scale of sub-block {@code j} (0..7), GGML's {@code get_scale_min_k4}. */
    static int q4kScale(MemorySegment data, long block, int j) {
        long q = block + Q4_K_SCALES;
        return j < 4
                ? u8(data, q + j) & 63
                : (u8(data, q + j + 4) & 0xF) | ((u8(data, q + j - 4) >> 6) << 4);
    }

    /** The 6-bit min of sub-block {@code j} (0..7), GGML's {@code get_scale_min_k4}. */
    static int q4kMin(MemorySegment data, long block, int j) {
        long q = block + Q4_K_SCALES;
        return j < 4
                ? u8(data, q + j + 4) & 63
                : (u8(data, q + j + 4) >> 4) | ((u8(data, q + j) >> 6) << 4);
    }

    private static void dequantizeQ4_K(MemorySegment data, long block, float[] y, int yi) {
        float d = f16(data, block);
        float dmin = f16(data, block + 2);
        for (int chunk = 0; chunk < 4; chunk++) {
            long qs = block + Q4_K_QS + 32L * chunk;
            int is = 2 * chunk;
            float d1 = d * q4kScale(data, block, is);
            float m1 = dmin * q4kMin(data, block, is);
            float d2 = d * q4kScale(data, block, is + 1);
            float m2 = dmin * q4kMin(data, block, is + 1);
            int y0 = yi + 64 * chunk;
            for (int l = 0; l < 32; l++) {
                y[y0 + l] = d1 * (u8(data, qs + l) & 0xF) - m1;
            }
            for (int l = 0; l < 32; l++) {
                y[y0 + 32 + l] = d2 * (u8(data, qs + l) >> 4) - m2;
            }
        }
    }

    private static float dotQ4_K(MemorySegment data, long block, float[] x, int xi, float sum) {
        float d = f16(data, block);
        float dmin = f16(data, block + 2);
        for (int chunk = 0; chunk < 4; chunk++) {
            long qs = block + Q4_K_QS + 32L * chunk;
            int is = 2 * chunk;
            float d1 = d * q4kScale(data, block, is);
            float m1 = dmin * q4kMin(data, block, is);
            float d2 = d * q4kScale(data, block, is + 1);
            float m2 = dmin * q4kMin(data, block, is + 1);
            int x0 = xi + 64 * chunk;
            for (int l = 0; l < 32; l++) {
                sum += (d1 * (u8(data, qs + l) & 0xF) - m1) * x[x0 + l];
            }
            for (int l = 0; l < 32; l++) {
                sum += (d2 * (u8(data, qs + l) >> 4) - m2) * x[x0 + 32 + l];
            }
        }
        return sum;
    }

    // Q6_K: uint8 ql[128] (low 4 bits), uint8 qh[64] (high 2 bits), int8 scales[16], fp16 d.
    // Half h (128 elements) reads ql[64h ..], qh[32h ..], scales[8h ..]; for l < 32 it yields elements
    // l, l + 32, l + 64, l + 96 of the half from (ql[l] low, ql[l + 32] low, ql[l] high, ql[l + 32] high) and
    // bit pairs 0, 2, 4, 6 of qh[l]; codes are 6-bit minus 32 and each group of 16 elements has its own scale.

    /** The signed 6-bit code of element {@code k} (0..3 as above) at position {@code l} of a Q6_K half. */
    static int q6kCode(MemorySegment data, long ql, long qh, int l, int k) {
        int low = u8(data, ql + l + (k & 1) * 32);
        int nibble = k < 2 ? low & 0xF : low >> 4;
        int high = (u8(data, qh + l) >> (2 * k)) & 3;
        return (nibble | (high << 4)) - 32;
    }

    private static void dequantizeQ6_K(MemorySegment data, long block, float[] y, int yi) {
        float d = f16(data, block + Q6_K_D);
        for (int half = 0; half < 2; half++) {
            long ql = block + 64L * half;
            long qh = block + Q6_K_QH + 32L * half;
            long sc = block + Q6_K_SCALES + 8L * half;
            int y0 = yi + 128 * half;
            for (int l = 0; l < 32; l++) {
                int is = l / 16;
                for (int k = 0; k < 4; k++) {
                    y[y0 + l + 32 * k] = d * i8(data, sc + is + 2 * k) * q6kCode(data, ql, qh, l, k);
                }
            }
        }
    }

    private static float dotQ6_K(MemorySegment data, long block, float[] x, int xi, float sum) {
        float d = f16(data, block + Q6_K_D);
        for (int half = 0; half < 2; half++) {
            long ql = block + 64L * half;
            long qh = block + Q6_K_QH + 32L * half;
            long sc = block + Q6_K_SCALES + 8L * half;
            int x0 = xi + 128 * half;
            // Column order, so the sum matches dequantize-then-dot exactly.
            for (int k = 0; k < 4; k++) {
                for (int l = 0; l < 32; l++) {
                    int is = l / 16;
                    sum += d * i8(data, sc + is + 2 * k) * q6kCode(data, ql, qh, l, k) * x[x0 + l + 32 * k];
                }
            }
        }
        return sum;
    }
}
