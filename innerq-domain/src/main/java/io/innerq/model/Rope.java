package io.innerq.model;

/**
 * Rotary position embedding in GGML's "normal" mode, used by Llama GGUFs: dimension pairs {@code (2i, 2i+1)} of
 * each head rotate by {@code pos * base^(-2i/n) / factor_i}. Frequency factors come from the file's
 * {@code rope_freqs.weight} when present (Llama 3.1 GGUFs store them there), else from {@link RopeScaling}.
 */
final class Rope {

    private final int dims;              // rotated dimensions per head
    private final float[] invFreq;       // [dims/2] base^(-2i/dims) / factor_i
    private final float positionScale;   // 1/linear factor
    private final float[] cos;           // [dims/2] scratch for the current position
    private final float[] sin;           // [dims/2]
    private int cachedPosition = -1;

    Rope(LlamaConfig config, float[] freqFactors) {
        dims = config.ropeDimensions();
        invFreq = new float[dims / 2];
        double base = config.ropeFreqBase();
        for (int i = 0; i < dims / 2; i++) {
            double f = Math.pow(base, -2.0 * i / dims);
            invFreq[i] = (float) (freqFactors != null ? f / freqFactors[i] : f);
        }
        if (freqFactors == null && config.ropeScaling() instanceof RopeScaling.Llama3 s) {
            applyLlama3(invFreq, s);
        }
        positionScale = config.ropeScaling() instanceof RopeScaling.Linear l ? 1f / l.factor() : 1f;
        cos = new float[dims / 2];
        sin = new float[dims / 2];
    }

    static void applyLlama3(float[] freqs, RopeScaling.Llama3 s) {
        double lowWavelen = s.originalContext() / s.lowFreqFactor();
        double highWavelen = s.originalContext() / s.highFreqFactor();
        for (int i = 0; i < freqs.length; i++) {
            double f = freqs[i];
            double wavelen = 2 * Math.PI / f;
            if (wavelen > lowWavelen) {
                f = f / s.factor();
            } else if (wavelen >= highWavelen) {
                double smooth = (s.originalContext() / wavelen - s.lowFreqFactor())
                        / (s.highFreqFactor() - s.lowFreqFactor());
                f = (1 - smooth) * f / s.factor() + smooth * f;
            }
            freqs[i] = (float) f;
        }
    }

    /** Rotates {@code heads} heads of {@code headDim} in {@code x} for {@code position}. */
    void apply(float[] x, int heads, int headDim, int position) {
        if (position != cachedPosition) {
            float p = position * positionScale;
            for (int i = 0; i < dims / 2; i++) {
                double angle = p * invFreq[i];
                cos[i] = (float) Math.cos(angle);
                sin[i] = (float) Math.sin(angle);
            }
            cachedPosition = position;
        }
        for (int h = 0; h < heads; h++) {
            int base = h * headDim;
            for (int i = 0; i < dims / 2; i++) {
                float x0 = x[base + 2 * i];
                float x1 = x[base + 2 * i + 1];
                x[base + 2 * i] = x0 * cos[i] - x1 * sin[i];
                x[base + 2 * i + 1] = x0 * sin[i] + x1 * cos[i];
            }
        }
    }
}
