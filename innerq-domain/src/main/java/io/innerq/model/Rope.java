package io.innerq.model;

/**
 * Rotary position embedding in GGML's "normal" mode, used by Llama GGUFs: dimension pairs {@code (2i, 2i+1)} of
 * each head rotate by {@code pos * base^(-2i/n) / factor_i}. Frequency factors come from the file's
 * {@code rope_freqs.weight} when present (Llama 3.1 GGUFs store them there), else from {@link RopeScaling}.
 */
public final class Rope {

    private final int dims;              // rotated dimensions per head
    private final float[] invFreq;       // [dims/2] base^(-2i/dims) / factor_i
    private final float positionScale;   // 1/linear factor
    private final float[] angles;        // [dims] cos | sin of the current position
    private int cachedPosition = -1;

    /** The rotation of {@code model}: its configuration and frequency factors. */
    public Rope(LlamaModel model) {
        this(model.config(), model.weights().ropeFreqFactors());
    }

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
        angles = new float[dims];
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

    /** Rotated dimensions per head (pairs: half of it). */
    public int dimensions() {
        return dims;
    }

    /**
     * The cosine and sine {@link #apply} rotates pair {@code i} by at {@code position}, into {@code out[at + i]} and
     * {@code out[at + dimensions() / 2 + i]} for {@code i < dimensions() / 2} (a device rotating uses the same values).
     */
    public void angles(int position, float[] out, int at) {
        float p = position * positionScale;
        int half = dims / 2;
        for (int i = 0; i < half; i++) {
            double angle = p * invFreq[i];
            out[at + i] = (float) Math.cos(angle);
            out[at + half + i] = (float) Math.sin(angle);
        }
    }

    /** Rotates {@code heads} heads of {@code headDim} in {@code x} for {@code position}. */
    void apply(float[] x, int heads, int headDim, int position) {
        if (position != cachedPosition) {
            angles(position, angles, 0);
            cachedPosition = position;
        }
        int half = dims / 2;
        for (int h = 0; h < heads; h++) {
            int base = h * headDim;
            for (int i = 0; i < half; i++) {
                float cos = angles[i];
                float sin = angles[half + i];
                float x0 = x[base + 2 * i];
                float x1 = x[base + 2 * i + 1];
                x[base + 2 * i] = x0 * cos - x1 * sin;
                x[base + 2 * i + 1] = x0 * sin + x1 * cos;
            }
        }
    }
}
