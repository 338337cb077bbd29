package io.innerq.port.out;

import io.innerq.tensor.Tensor;

/**
 * Matrix-vector products over weight tensors in their stored type: the bulk of a decode step's work.
 * Implementations may split rows across threads; they must not allocate per call.
 */
public interface MatVecPort {

    /**
     * {@code out[r] = sum_c w[r][c] * x[c]} for every row {@code r} of {@code w}.
     *
     * @param w   weights, {@code [rows][cols]} of {@code w.type()}
     * @param x   input, {@code float[cols]} (may be longer)
     * @param out output, {@code float[rows]} (may be longer)
     */
    void matVec(Tensor w, float[] x, float[] out);

    /**
     * The same product for {@code n} inputs at once: {@code outs[i] = w . xs[i]}. Prompts use it, so each weight is
     * read once for many tokens. The default runs {@link #matVec} n times.
     *
     * @param xs   inputs, {@code [>= n][cols]}
     * @param outs outputs, {@code [>= n][rows]}
     */
    default void matMul(Tensor w, float[][] xs, float[][] outs, int n) {
        for (int i = 0; i < n; i++) {
            matVec(w, xs[i], outs[i]);
        }
    }

    /** A short name for logs and benchmarks, e.g. {@code "scalar"} or {@code "vector-avx512x2"}. */
    String name();
}
