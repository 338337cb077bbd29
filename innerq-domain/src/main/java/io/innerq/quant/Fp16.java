package io.innerq.quant;

/**
 * Directed rounding to fp16 (IEEE binary16, stored as {@code short} bit patterns). The quantizers round a scale up
 * and a zero point down, so that every input of a group stays inside the grid the stored values describe.
 */
public final class Fp16 {

    /** The largest finite fp16. */
    public static final float MAX = 65504f;

    private static final short NEGATIVE_ZERO = (short) 0x8000;

    private Fp16() {
    }

    /** {@code h} as a float. */
    public static float toFloat(short h) {
        return Float.float16ToFloat(h);
    }

    /** The smallest fp16 {@code >= x}, for finite {@code |x| <= MAX}. */
    public static short ceil(float x) {
        short h = Float.floatToFloat16(x);
        return Float.float16ToFloat(h) >= x ? h : nextUp(h);
    }

    /** The largest fp16 {@code <= x}, for finite {@code |x| <= MAX}. */
    public static short floor(float x) {
        short h = Float.floatToFloat16(x);
        return Float.float16ToFloat(h) <= x ? h : nextDown(h);
    }

    static short nextUp(short h) {
        if (h == NEGATIVE_ZERO) {
            return 0x0001;
        }
        return (short) (h >= 0 ? h + 1 : h - 1);
    }

    static short nextDown(short h) {
        if (h == 0) {
            return (short) 0x8001;
        }
        return (short) (h >= 0 ? h - 1 : h + 1);
    }
}
