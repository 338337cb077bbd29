package io.innerq.quant;

/**
 * Quantizes groups of floats to b-bit integer codes with one fp16 scale (and, for asymmetric groups, one fp16 zero
 * point) per group. One instance per cache (it holds scratch space); {@link #quantize} allocates nothing.
 *
 * <p>Definitions (b bits, a group {@code x[0..n)}, fp32 arithmetic, {@code round} = half away from zero):
 * <pre>
 *   symmetric:  s = ceil16(max|x| / 2^(b-1))            c = clamp(round(x / s), -2^(b-1), 2^(b-1) - 1)   x^ = s * c
 *   asymmetric: z = floor16(min x)
 *               s = ceil16((max x - z) / (2^b - 1))     c = clamp(round((x - z) / s), 0, 2^b - 1)        x^ = s * c + z
 *   hybrid:     both; keeps the one with the lower sum |x - x^| (ties: symmetric)
 * </pre>
 * {@code ceil16}/{@code floor16} round to the nearest fp16 up/down ({@link Fp16}): codes are computed with the scale
 * and zero point exactly as stored, and rounding them this way keeps every input inside the stored grid, so
 * {@code |x - x^| <= s/2} (s as stored) for every element, up to fp32 rounding, with one exception: two's complement
 * has one more negative level than positive ones, so a symmetric element above {@code (2^(b-1) - 1/2) * s} clamps to
 * {@code 2^(b-1) - 1} and errs by up to {@code s} (the group's largest positive element, when it is the largest
 * magnitude). A group of zeros (symmetric), or of equal values (asymmetric), has scale 0 and codes 0.
 *
 * <p>The returned scale is an fp16 bit pattern whose sign bit flags an asymmetric group ({@link #isAsymmetric}); its
 * zero point is then {@link #zeroPoint()}. Inputs must be finite; a scale beyond fp16's range is clamped to
 * {@link Fp16#MAX} (codes then clamp and the bound no longer holds).
 */
public final class GroupQuantizer {

    /** The sign bit of an fp16 scale: set for an asymmetric group. */
    public static final short ASYMMETRIC_FLAG = (short) 0x8000;

    private final int bits;
    private final QuantMode mode;
    private final int[] alternative; // [maxGroup] hybrid: the asymmetric candidate's codes
    private short zero;

    /** A quantizer for groups of up to {@code maxGroup} elements. */
    public GroupQuantizer(int bits, QuantMode mode, int maxGroup) {
        BitPacking.checkBits(bits);
        if (maxGroup <= 0) {
            throw new IllegalArgumentException("group size must be positive, got " + maxGroup);
        }
        this.bits = bits;
        this.mode = mode;
        this.alternative = new int[mode == QuantMode.HYBRID ? maxGroup : 0];
    }

    public int bits() {
        return bits;
    }

    public QuantMode mode() {
        return mode;
    }

    /**
     * Quantizes {@code x[xOff .. xOff+n)} into {@code codes[cOff .. cOff+n)} (signed values for a symmetric group,
     * unsigned for an asymmetric one; {@link BitPacking#pack} keeps their low b bits).
     *
     * @return the fp16 scale, sign bit set for an asymmetric group (its zero point is then {@link #zeroPoint()})
     */
    public short quantize(float[] x, int xOff, int n, int[] codes, int cOff) {
        return switch (mode) {
            case SYMMETRIC -> symmetric(x, xOff, n, bits, codes, cOff);
            case ASYMMETRIC -> {
                int packed = asymmetric(x, xOff, n, bits, codes, cOff);
                zero = (short) (packed >>> 16);
                yield (short) packed;
            }
            case HYBRID -> {
                short s = symmetric(x, xOff, n, bits, codes, cOff);
                int packed = asymmetric(x, xOff, n, bits, alternative, 0);
                short sa = (short) packed;
                short za = (short) (packed >>> 16);
                float es = l1Error(x, xOff, n, codes, cOff, s, (short) 0);
                float ea = l1Error(x, xOff, n, alternative, 0, sa, za);
                if (es <= ea) {
                    yield s;
                }
                System.arraycopy(alternative, 0, codes, cOff, n);
                zero = za;
                yield sa;
            }
        };
    }

    /** The fp16 zero point of the last group {@link #quantize} returned as asymmetric. */
    public short zeroPoint() {
        return zero;
    }

    /** Whether a stored scale marks an asymmetric group. */
    public static boolean isAsymmetric(short scale) {
        return scale < 0;
    }

    /** The magnitude of a stored scale, as a float. */
    public static float scale(short scale) {
        return Float.float16ToFloat((short) (scale & 0x7FFF));
    }

    /** {@code s * c} for a symmetric group, {@code s * c + z} for an asymmetric one (fp32, not fused). */
    public static float dequantize(int code, short scale, short zero) {
        float s = scale(scale);
        return isAsymmetric(scale) ? s * code + Float.float16ToFloat(zero) : s * code;
    }

    /** Round half away from zero: {@code sign(v) * floor(|v| + 1/2)}, computed exactly (C's {@code roundf}). */
    public static int round(float v) {
        return v >= 0 ? Math.round(v) : -Math.round(-v);
    }

    /** Symmetric quantization; returns the fp16 scale (sign bit clear). */
    static short symmetric(float[] x, int xOff, int n, int bits, int[] codes, int cOff) {
        float amax = 0f;
        for (int i = 0; i < n; i++) {
            amax = Math.max(amax, Math.abs(x[xOff + i]));
        }
        int half = 1 << (bits - 1);
        short sb = Fp16.ceil(Math.min(amax / half, Fp16.MAX));
        float s = Float.float16ToFloat(sb);
        if (s == 0f) {
            java.util.Arrays.fill(codes, cOff, cOff + n, 0);
            return 0;
        }
        for (int i = 0; i < n; i++) {
            codes[cOff + i] = Math.clamp(round(x[xOff + i] / s), -half, half - 1);
        }
        return sb;
    }

    /** Asymmetric quantization; returns {@code zero << 16 | scale & 0xFFFF}, the scale's sign bit set. */
    static int asymmetric(float[] x, int xOff, int n, int bits, int[] codes, int cOff) {
        float min = Float.POSITIVE_INFINITY;
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            float v = x[xOff + i];
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        int top = (1 << bits) - 1;
        short zb = Fp16.floor(Math.clamp(min, -Fp16.MAX, Fp16.MAX));
        float z = Float.float16ToFloat(zb);
        float range = max - z;
        short sb = range > 0f ? Fp16.ceil(Math.min(range / top, Fp16.MAX)) : 0;
        float s = Float.float16ToFloat(sb);
        for (int i = 0; i < n; i++) {
            codes[cOff + i] = s == 0f ? 0 : Math.clamp(round((x[xOff + i] - z) / s), 0, top);
        }
        return (zb << 16) | ((sb | ASYMMETRIC_FLAG) & 0xFFFF);
    }

    /** Sum of |x - x^| over a group, reconstructing as the readers do. */
    static float l1Error(float[] x, int xOff, int n, int[] codes, int cOff, short scale, short zero) {
        float e = 0f;
        for (int i = 0; i < n; i++) {
            e += Math.abs(x[xOff + i] - dequantize(codes[cOff + i], scale, zero));
        }
        return e;
    }
}
