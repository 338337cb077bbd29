package io.innerq.cache;

import io.innerq.port.out.KvCachePort.CacheGeometry;

/** Plain fp32 attention over position-major keys and values, and the softmax every cache shares. */
final class ExactAttention {

    private ExactAttention() {
    }

    /**
     * Causal attention of every query head over tokens {@code 0..tokens-1}.
     *
     * @param keys   fp32 {@code [token][kvHead][channel]}
     * @param values fp32 {@code [token][kvHead][channel]}
     * @param scores scratch, at least {@code tokens} long
     */
    static void attend(CacheGeometry g, float[] keys, float[] values, int tokens, float[] q, float[] out, float[] scores) {
        int hd = g.headDim();
        int kvDim = g.kvDim();
        float scale = scoreScale(hd);
        for (int h = 0; h < g.heads(); h++) {
            int qo = h * hd;
            int kvo = (h / g.groupSize()) * hd;
            for (int t = 0; t < tokens; t++) {
                float s = 0f;
                int ko = t * kvDim + kvo;
                for (int d = 0; d < hd; d++) {
                    s += q[qo + d] * keys[ko + d];
                }
                scores[t] = s * scale;
            }
            softmax(scores, 0, tokens);
            for (int d = 0; d < hd; d++) {
                out[qo + d] = 0f;
            }
            for (int t = 0; t < tokens; t++) {
                float p = scores[t];
                int vo = t * kvDim + kvo;
                for (int d = 0; d < hd; d++) {
                    out[qo + d] += p * values[vo + d];
                }
            }
        }
    }

    /** {@code 1 / sqrt(headDim)}, the factor on every score. */
    static float scoreScale(int headDim) {
        return (float) (1.0 / Math.sqrt(headDim));
    }

    /** Replaces {@code s[off .. off+n)} by its softmax. */
    static void softmax(float[] s, int off, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = off; i < off + n; i++) {
            max = Math.max(max, s[i]);
        }
        float sum = 0f;
        for (int i = off; i < off + n; i++) {
            float e = (float) Math.exp(s[i] - max);
            s[i] = e;
            sum += e;
        }
        float inv = 1f / sum;
        for (int i = off; i < off + n; i++) {
            s[i] *= inv;
        }
    }
}
