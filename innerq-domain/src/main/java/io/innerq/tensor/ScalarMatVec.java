package io.innerq.tensor;

import io.innerq.port.out.MatVecPort;

/** The reference {@link MatVecPort}: one thread, {@link ScalarKernels}. */
public final class ScalarMatVec implements MatVecPort {

    @Override
    public void matVec(Tensor w, float[] x, float[] out) {
        int rows = w.rows();
        for (int r = 0; r < rows; r++) {
            out[r] = ScalarKernels.dotRow(w, r, x);
        }
    }

    @Override
    public String name() {
        return "scalar";
    }
}
