package io.innerq.quant;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Properties of the packing, fp16 rounding and group quantizers over generated inputs: each property runs its tries
 * on seeded random inputs (try t uses seed t, named in a failure's message, so a failure replays). The bounds are the
 * ones GroupQuantizer's class comment states.
 */
class QuantPropertyTests {

    static int bits(SplittableRandom r) {
        return new int[]{2, 3, 4, 8}[r.nextInt(4)];
    }

    /** A finite float of any magnitude from 2^-24 to 2^13 (so no scale reaches fp16's limit), zeros and ties included. */
    static float value(SplittableRandom r) {
        float mantissa = Math.round((float) (r.nextDouble() * 2 - 1) * 1e7f) / 1e7f;
        return Math.scalb(mantissa, r.nextInt(-24, 14));
    }

    /** A group of 1 to 64 elements; half the time all of one magnitude around a shift, otherwise of mixed magnitudes. */
    static float[] group(SplittableRandom r) {
        float[] x = new float[r.nextInt(1, 65)];
        if (r.nextBoolean()) {
            for (int i = 0; i < x.length; i++) {
                x[i] = value(r);
            }
        } else {
            int e = r.nextInt(-20, 13);
            float shift = Math.round((float) (r.nextDouble() * 8 - 4) * 1e3f) / 1e3f;
            for (int i = 0; i < x.length; i++) {
                float m = Math.round((float) (r.nextDouble() * 2 - 1) * 1e6f) / 1e6f;
                x[i] = Math.scalb(m + shift, e);
            }
        }
        return x;
    }

    /** Any finite float within fp16's range, drawn by its bits. */
    static float fp16Range(SplittableRandom r) {
        while (true) {
            float x = Float.intBitsToFloat(r.nextInt());
            if (Float.isFinite(x) && Math.abs(x) <= Fp16.MAX) {
                return x;
            }
        }
    }

    private static float slack(float[] x) {
        float m = 0f;
        for (float v : x) {
            m = Math.max(m, Math.abs(v));
        }
        return 4 * Math.ulp(m);
    }

    // --- BitPacking

    @Test
    void packThenUnpackKeepsTheLowBitsSignedAndUnsignedAndTouchesNothingElse() {
        for (int t = 0; t < 1000; t++) {
            var r = new SplittableRandom(t);
            packThenUnpack(bits(r), r.nextInt(1, 131), r.nextInt(4), r.nextInt(4), r);
        }
    }

    private static void packThenUnpack(int bits, int n, int cOff, int wOff, SplittableRandom random) {
        int[] codes = new int[cOff + n];
        for (int i = 0; i < codes.length; i++) {
            codes[i] = random.nextInt();                        // pack keeps only the low b bits
        }
        int words = BitPacking.words(bits, n);
        assertThat(words).isEqualTo((n * bits + 31) / 32);
        int[] packed = new int[wOff + words + 1];
        java.util.Arrays.fill(packed, 0xA5A5A5A5);
        BitPacking.pack(codes, cOff, n, bits, packed, wOff);
        for (int w = 0; w < wOff; w++) {
            assertThat(packed[w]).isEqualTo(0xA5A5A5A5);
        }
        assertThat(packed[wOff + words]).isEqualTo(0xA5A5A5A5);
        int usedInLast = n * bits - 32 * (words - 1);
        if (usedInLast < 32) {
            assertThat(packed[wOff + words - 1] >>> usedInLast).as("unused high bits").isZero();
        }
        int mask = (1 << bits) - 1;
        int[] signed = new int[n];
        int[] unsigned = new int[n];
        BitPacking.unpack(packed, wOff, bits, true, signed, 0, n);
        BitPacking.unpack(packed, wOff, bits, false, unsigned, 0, n);
        for (int i = 0; i < n; i++) {
            int low = codes[cOff + i] & mask;
            assertThat(unsigned[i]).isEqualTo(low);
            assertThat(signed[i]).isEqualTo(low >= 1 << (bits - 1) ? low - (1 << bits) : low)
                    .isBetween(-(1 << (bits - 1)), (1 << (bits - 1)) - 1);
        }
    }

    /** Attention reads packed codes in place: the result is the plain fp32 dot over the unpacked codes, bit for bit. */
    @Test
    void dotOnPackedCodesEqualsTheDotOverUnpackedCodes() {
        for (int t = 0; t < 1000; t++) {
            var r = new SplittableRandom(t);
            dotOnPacked(bits(r), group(r), r.nextBoolean(), r, t);
        }
    }

    private static void dotOnPacked(int bits, float[] x, boolean signed, SplittableRandom random, int t) {
        int n = x.length;
        int[] codes = new int[n];
        for (int i = 0; i < n; i++) {
            codes[i] = random.nextInt(1 << bits);
        }
        int[] packed = new int[1 + BitPacking.words(bits, n)];
        BitPacking.pack(codes, 0, n, bits, packed, 1);
        int[] read = new int[n];
        BitPacking.unpack(packed, 1, bits, signed, read, 0, n);
        float plain = 0f;
        for (int i = 0; i < n; i++) {
            plain += x[i] * read[i];
        }
        assertThat(BitPacking.dot(packed, 1, bits, signed, x, 0, n)).as("try %d", t).isEqualTo(plain);
    }

    // --- Fp16

    @Test
    void ceilAndFloorRoundToTheAdjacentHalves() {
        for (int t = 0; t < 2000; t++) {
            ceilAndFloor(fp16Range(new SplittableRandom(t)));
        }
    }

    private static void ceilAndFloor(float x) {
        short up = Fp16.ceil(x);
        short down = Fp16.floor(x);
        assertThat(Fp16.toFloat(up)).isGreaterThanOrEqualTo(x);
        assertThat(Fp16.toFloat(down)).isLessThanOrEqualTo(x);
        // nothing representable lies strictly between x and either result
        if (Fp16.toFloat(up) != x) {
            assertThat(Fp16.toFloat(Fp16.nextDown(up))).isLessThan(x);
        }
        if (Fp16.toFloat(down) != x) {
            assertThat(Fp16.toFloat(Fp16.nextUp(down))).isGreaterThan(x);
        }
        // directed rounding is antisymmetric, and exact on halves
        assertThat(Fp16.toFloat(Fp16.ceil(-x)) == -Fp16.toFloat(down)).as("ceil(-x) = -floor(x)").isTrue();
        assertThat(Fp16.toFloat(Fp16.ceil(Fp16.toFloat(up)))).isEqualTo(Fp16.toFloat(up));
        assertThat(Fp16.toFloat(Fp16.floor(Fp16.toFloat(down)))).isEqualTo(Fp16.toFloat(down));
    }

    // --- GroupQuantizer

    @Test
    void symmetricErrsAtMostHalfAStepExceptTheClampedTopLevel() {
        for (int t = 0; t < 1000; t++) {
            var r = new SplittableRandom(t);
            symmetricBound(bits(r), group(r));
        }
    }

    private static void symmetricBound(int bits, float[] x) {
        int n = x.length;
        int half = 1 << (bits - 1);
        int[] codes = new int[n];
        short sb = new GroupQuantizer(bits, QuantMode.SYMMETRIC, n).quantize(x, 0, n, codes, 0);
        assertThat(GroupQuantizer.isAsymmetric(sb)).isFalse();
        float s = GroupQuantizer.scale(sb);
        for (int i = 0; i < n; i++) {
            assertThat(codes[i]).isBetween(-half, half - 1);
            float err = Math.abs(x[i] - GroupQuantizer.dequantize(codes[i], sb, (short) 0));
            // two's complement has no level +2^(b-1): the top positive elements may err by a whole step
            float bound = x[i] > (half - 0.5f) * s ? s : s / 2;
            assertThat(err).as("x=%s s=%s c=%d", x[i], s, codes[i]).isLessThanOrEqualTo(bound + slack(x));
        }
    }

    @Test
    void asymmetricErrsAtMostHalfAStep() {
        for (int t = 0; t < 1000; t++) {
            var r = new SplittableRandom(t);
            asymmetricBound(bits(r), group(r));
        }
    }

    private static void asymmetricBound(int bits, float[] x) {
        int n = x.length;
        int[] codes = new int[n];
        var q = new GroupQuantizer(bits, QuantMode.ASYMMETRIC, n);
        short sb = q.quantize(x, 0, n, codes, 0);
        short zb = q.zeroPoint();
        assertThat(GroupQuantizer.isAsymmetric(sb)).isTrue();
        float s = GroupQuantizer.scale(sb);
        float min = Float.POSITIVE_INFINITY;
        for (float v : x) {
            min = Math.min(min, v);
        }
        assertThat(Fp16.toFloat(zb)).isLessThanOrEqualTo(min);
        for (int i = 0; i < n; i++) {
            assertThat(codes[i]).isBetween(0, (1 << bits) - 1);
            float err = Math.abs(x[i] - GroupQuantizer.dequantize(codes[i], sb, zb));
            assertThat(err).as("x=%s s=%s c=%d", x[i], s, codes[i]).isLessThanOrEqualTo(s / 2 + slack(x));
        }
    }

    @Test
    void hybridIsNeverWorseThanEitherBranchAndKeepsTheBranchItFlags() {
        for (int t = 0; t < 1000; t++) {
            var r = new SplittableRandom(t);
            hybridChoice(bits(r), group(r));
        }
    }

    private static void hybridChoice(int bits, float[] x) {
        int n = x.length;
        int[] codes = new int[n];
        int[] sym = new int[n];
        int[] asym = new int[n];
        var hybrid = new GroupQuantizer(bits, QuantMode.HYBRID, n);
        var asymmetric = new GroupQuantizer(bits, QuantMode.ASYMMETRIC, n);
        short sh = hybrid.quantize(x, 0, n, codes, 0);
        short ss = new GroupQuantizer(bits, QuantMode.SYMMETRIC, n).quantize(x, 0, n, sym, 0);
        short sa = asymmetric.quantize(x, 0, n, asym, 0);
        float eh = l1(x, codes, sh, hybrid.zeroPoint());
        float es = l1(x, sym, ss, (short) 0);
        float ea = l1(x, asym, sa, asymmetric.zeroPoint());
        assertThat(eh).isLessThanOrEqualTo(es).isLessThanOrEqualTo(ea);
        if (GroupQuantizer.isAsymmetric(sh)) {
            assertThat(ea).isLessThan(es);
            assertThat(sh).isEqualTo(sa);
            assertThat(hybrid.zeroPoint()).isEqualTo(asymmetric.zeroPoint());
            assertThat(codes).containsExactly(asym);
        } else {
            assertThat(sh).isEqualTo(ss);
            assertThat(codes).containsExactly(sym);
        }
    }

    /** Sum |x - x^| in fp32, reconstructing as the cache's readers do. */
    private static float l1(float[] x, int[] codes, short scale, short zero) {
        float e = 0f;
        for (int i = 0; i < x.length; i++) {
            e += Math.abs(x[i] - GroupQuantizer.dequantize(codes[i], scale, zero));
        }
        return e;
    }
}
