package io.innerq.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Scalar reference kernels for every {@link GgmlType}: plain loops that follow GGML's block definitions. They define
 * what the vectorized and GPU kernels must compute.
 */
public final class ScalarKernels {

    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private ScalarKernels() {
    }

    /** Writes row {@code row} of {@code w} as floats into {@code out[offset .. offset + cols)}. */
    public static void dequantizeRow(Tensor w, int row, float[] out, int offset) {
        MemorySegment data = w.data();
        long base = row * w.rowBytes();
        int cols = w.cols();
        switch (w.type()) {
            case F32 -> {
                for (int c = 0; c < cols; c++) {
                    out[offset + c] = data.get(F32, base + 4L * c);
                }
            }
            case F16 -> {
                for (int c = 0; c < cols; c++) {
                    out[offset + c] = Float.float16ToFloat(data.get(I16, base + 2L * c));
                }
            }
            case BF16 -> {
                for (int c = 0; c < cols; c++) {
                    out[offset + c] = Float.intBitsToFloat(data.get(I16, base + 2L * c) << 16);
                }
            }
            default -> throw new UnsupportedOperationException("no scalar kernel for " + w.type() + " yet");
        }
    }

    /** The dot product of row {@code row} of {@code w} with {@code x[0 .. cols)}. */
    public static float dotRow(Tensor w, int row, float[] x) {
        float[] tmp = new float[w.cols()];
        dequantizeRow(w, row, tmp, 0);
        float sum = 0f;
        for (int c = 0; c < tmp.length; c++) {
            sum += tmp[c] * x[c];
        }
        return sum;
    }
}
