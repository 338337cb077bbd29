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

    /** A short name for logs and benchmarks, e.g. {@code "scalar"} or {@code "vector-avx512x2"}. */
    String name();
}
