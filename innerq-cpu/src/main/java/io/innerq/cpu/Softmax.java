package io.innerq.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;

import static io.innerq.cpu.Lanes.F;
import static io.innerq.cpu.Lanes.L;
import static jdk.incubator.vector.VectorOperators.F2I;
import static jdk.incubator.vector.VectorOperators.LSHL;
import static jdk.incubator.vector.VectorOperators.LT;
import static jdk.incubator.vector.VectorOperators.MAX;

/**
 * Exact softmax, vectorized: {@code p_t = exp(s_t - max s) / sum_u exp(s_u - max s)}. The division is left to the
 * caller, who applies {@code 1 / sum} once to the attention output ({@code out = (sum_t e_t v_t) / sum_t e_t}),
 * instead of to every probability.
 *
 * <p>{@code exp} is computed here ({@link #exp}, and written out in the vector loop) from adds, multiplies and fmas
 * only, so that every JIT tier and machine gives the same bits: {@code lanewise(EXP)} is a library call in C2 (SVML on
 * x86) and {@link Math#exp} per lane elsewhere, which differ in the last bit for about one value in twenty-five. At
 * most 1 ulp from the correctly rounded exp over [-87.3, 0] (checked against {@link Math#exp}).
 */
final class Softmax {

    // exp(x) = 2^k exp(r), k = round(x log2 e), r = x - k ln 2 (ln 2 in two parts, Cody and Waite), |r| <= ln 2 / 2;
    // exp(r) = 1 + r + r^2 P(r), P of degree 5 (Cephes' expf: relative error below 2^-23 on that interval).
    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    private static final float ROUND = 12582912f; // 1.5 * 2^23: x + ROUND - ROUND rounds x to an integer
    private static final float P0 = 1.9875691500e-4f;
    private static final float P1 = 1.3981999507e-3f;
    private static final float P2 = 8.3334519073e-3f;
    private static final float P3 = 4.1665795894e-2f;
    private static final float P4 = 1.6666665459e-1f;
    private static final float P5 = 5.0000001201e-1f;
    /** Below this, exp(x) is under Float.MIN_NORMAL: 0 is returned. */
    private static final float MIN_ARG = -87.33654f;

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
        float max = mv.reduceLanes(MAX); // exact in any order
        for (int i = vectorEnd; i < end; i++) {
            max = Math.max(max, s[i]);
        }
        FloatVector m = FloatVector.broadcast(F, max);
        FloatVector sv = FloatVector.zero(F);
        for (int i = off; i < vectorEnd; i += L) {
            // exp(x), written out here rather than called: C2 might leave a call out of line, boxing its vectors
            FloatVector x = FloatVector.fromArray(F, s, i).sub(m);
            FloatVector t = x.max(MIN_ARG);
            FloatVector k = t.mul(LOG2E).add(ROUND).sub(ROUND);
            FloatVector r = k.fma(FloatVector.broadcast(F, -LN2_HI), t);
            r = k.fma(FloatVector.broadcast(F, -LN2_LO), r);
            FloatVector p = FloatVector.broadcast(F, P0).fma(r, FloatVector.broadcast(F, P1));
            p = p.fma(r, FloatVector.broadcast(F, P2));
            p = p.fma(r, FloatVector.broadcast(F, P3));
            p = p.fma(r, FloatVector.broadcast(F, P4));
            p = p.fma(r, FloatVector.broadcast(F, P5));
            FloatVector y = p.fma(r.mul(r), r).add(1f);
            FloatVector scale = ((IntVector) k.convert(F2I, 0)).add(127).lanewise(LSHL, 23).reinterpretAsFloats();
            FloatVector e = y.mul(scale).blend(0f, x.compare(LT, MIN_ARG));
            e.intoArray(s, i);
            sv = sv.add(e);
        }
        // Lanes.sum(sv), written out: a call that C2 leaves out of line boxes its vector
        FloatVector svsH = sv.add(sv.rearrange(Lanes.ROT4));
        FloatVector svsQ = svsH.add(svsH.rearrange(Lanes.SWAP2));
        FloatVector svs = svsQ.add(svsQ.rearrange(Lanes.SWAP1)); // in lane 0
        float sum = svs.lane(0);
        for (int i = vectorEnd; i < end; i++) {
            float e = exp(s[i] - max);
            s[i] = e;
            sum += e;
        }
        return sum;
    }

    /**
     * {@code exp(x)} for {@code x <= 0}, with the operations of the vector loop above: the same bits (0 below
     * {@link #MIN_ARG}; NaN stays NaN).
     */
    static float exp(float x) {
        float t = Math.max(x, MIN_ARG);
        float k = t * LOG2E + ROUND - ROUND;
        float r = Math.fma(k, -LN2_HI, t);
        r = Math.fma(k, -LN2_LO, r);
        float p = Math.fma(P0, r, P1);
        p = Math.fma(p, r, P2);
        p = Math.fma(p, r, P3);
        p = Math.fma(p, r, P4);
        p = Math.fma(p, r, P5);
        float y = Math.fma(p, r * r, r) + 1f;
        float scale = Float.intBitsToFloat(((int) k + 127) << 23);
        return x < MIN_ARG ? 0f : y * scale;
    }
}
