package io.innerq.cpu;

import jdk.incubator.vector.FloatVector;

import static io.innerq.cpu.Lanes.F;
import static io.innerq.cpu.Lanes.L;
import static jdk.incubator.vector.VectorOperators.ADD;
import static jdk.incubator.vector.VectorOperators.EXP;
import static jdk.incubator.vector.VectorOperators.MAX;

/**
 * Exact softmax, vectorized: {@code p_t = exp(s_t - max s) / sum_u exp(s_u - max s)}. The division is left to the
 * caller, who applies {@code 1 / sum} once to the attention output ({@code out = (sum_t e_t v_t) / sum_t e_t}),
 * instead of to every probability.
 */
final class Softmax {

    private Softmax() {
    }

    /** Replaces {@code s[off, off + n)} by {@code exp(s - max)}; returns their sum. */
    static float exponentiate(float[] s, int off, int n) {
        int end = off + n;
        int vectorEnd = off + (n & -L);
        FloatVector mv = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (int i = off; i < vectorEnd; i += L) {
            mv = mv.max(FloatVector.fromArray(F, s, i));
        }
        float max = mv.reduceLanes(MAX);
        for (int i = vectorEnd; i < end; i++) {
            max = Math.max(max, s[i]);
        }
        FloatVector m = FloatVector.broadcast(F, max);
        FloatVector sv = FloatVector.zero(F);
        for (int i = off; i < vectorEnd; i += L) {
            FloatVector e = FloatVector.fromArray(F, s, i).sub(m).lanewise(EXP);
            e.intoArray(s, i);
            sv = sv.add(e);
        }
        float sum = sv.reduceLanes(ADD);
        for (int i = vectorEnd; i < end; i++) {
            float e = (float) Math.exp(s[i] - max);
            s[i] = e;
            sum += e;
        }
        return sum;
    }
}
