package io.innerq.cpu;

import io.innerq.tensor.GgmlType;
import io.innerq.tensor.ScalarKernels;
import io.innerq.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * How far {@link VectorMatVec}'s row {@code w[r] . x} may be from {@link io.innerq.tensor.ScalarMatVec}'s, from the
 * arithmetic: {@code 2 γ(n + 2) M + MIN_NORMAL}, with {@code γ(k) = k u / (1 - k u)}, u = 2^-24 and n the row's
 * columns.
 *
 * <p>Both compute {@code sum_c w_c x_c} in fp32, each in its own order, over exact weights: an fp16 d times an int8 or
 * 4-bit code, times an int8 scale and a 6-bit code, or times a 6-bit scale and a 4-bit code fits in 24 bits (Q4_K's
 * subtraction of the min is the exception, below). Each term is then rounded at most once as a product (not at all
 * in an fma), at most n - 1 times in additions, and once more by a block scale (the vector kernels' {@code d * sum}
 * per block): k = n + 2 roundings, so each result is within {@code γ(k) M} of the exact sum (Higham, Accuracy and
 * Stability of Numerical Algorithms, 2nd ed., §3.1 and (3.5)), {@code M = sum_c |w_c x_c|}, and the two are within
 * twice that of each other. Q4_K: the vector kernel sums {@code d scale q x} and {@code dmin min x} apart, and the
 * reference rounds each weight {@code d scale q - dmin min} once; there {@code M = sum_c (|d scale q| + |dmin min|)
 * |x_c|}. MIN_NORMAL covers subnormal terms, whose rounding is absolute (at most 2^-150 each).
 *
 * <p>The bound is the worst case over all orders, so it holds at every vector width; typical differences are far
 * smaller (about {@code sqrt(n) u M}). It still catches a wrong or missing term larger than about {@code 2 n u M}.
 */
final class SummationBound {

    private static final double U = 0x1p-24;

    private SummationBound() {
    }

    /** The bound for every row of {@code w} with input {@code x}: {@code float[rows]}. */
    static float[] rows(Tensor w, float[] x) {
        int cols = w.cols();
        double k = cols + 2;
        double gamma = k * U / (1 - k * U);
        Tensor mins = w.type() == GgmlType.Q4_K ? q4kMins(w) : null;
        float[] row = new float[cols];
        float[] min = new float[cols];
        float[] bounds = new float[w.rows()];
        for (int r = 0; r < w.rows(); r++) {
            ScalarKernels.dequantizeRow(w, r, row, 0);
            if (mins != null) {
                ScalarKernels.dequantizeRow(mins, r, min, 0);
            }
            double m = 0;
            for (int c = 0; c < cols; c++) {
                // Q4_K: |d scale q| <= |w| / (1 - u) + |dmin min| (w rounded once); min is 0 for other types
                double weight = mins == null ? Math.abs(row[c]) : Math.abs(row[c]) / (1 - U) + 2 * Math.abs(min[c]);
                m += weight * Math.abs(x[c]);
            }
            bounds[r] = (float) (2 * gamma * m) + Float.MIN_NORMAL;
        }
        return bounds;
    }

    /** A copy of a Q4_K tensor with every code 0: its weights are {@code -dmin * min}, exactly. */
    private static Tensor q4kMins(Tensor w) {
        byte[] bytes = w.data().toArray(ValueLayout.JAVA_BYTE);
        for (int block = 0; block < bytes.length; block += 144) {
            Arrays.fill(bytes, block + 16, block + 144, (byte) 0); // qs[128] after d, dmin, scales[12]
        }
        return new Tensor(w.name() + " mins", w.type(), w.shape(), MemorySegment.ofArray(bytes));
    }
}
