package io.innerq.tensor;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import java.util.random.RandomGenerator;

/**
 * Builds GGML blocks by hand so tests can construct tensors: block packers that take codes and scales as plain ints,
 * simple (not GGML's optimal) quantizers on top of them, and seeded random tensors.
 * Public because other modules' tests use it through innerq-domain's test-jar.
 */
public final class BlockEncoder {

    private BlockEncoder() {
    }

    /** A {@code [rows][cols]} tensor over {@code bytes} (a heap segment). */
    public static Tensor tensor(String name, GgmlType type, int rows, int cols, byte[] bytes) {
        return new Tensor(name, type, new long[] {cols, rows}, MemorySegment.ofArray(bytes));
    }

    /** {@code values} (row-major {@code [rows][cols]}) quantized to {@code type}. */
    public static Tensor quantize(String name, GgmlType type, int rows, int cols, float[] values) {
        if (values.length != rows * cols) {
            throw new IllegalArgumentException("%d values for a %dx%d tensor".formatted(values.length, rows, cols));
        }
        return tensor(name, type, rows, cols, encode(type, values));
    }

    /**
     * A seeded random {@code [rows][cols]} tensor. Float types hold values in [-1, 1); quantized types hold uniform
     * random codes, scales and mins over their whole ranges, with fp16 super-scales in [2^-10, 2^-6).
     */
    public static Tensor random(GgmlType type, int rows, int cols, long seed) {
        Random rnd = new Random(seed);
        int blocks = rows * cols / type.blockSize();
        ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(type.bytesFor((long) rows * cols)))
                .order(ByteOrder.LITTLE_ENDIAN);
        for (int b = 0; b < blocks; b++) {
            switch (type) {
                case F32 -> out.putFloat(uniform(rnd));
                case F16 -> out.putShort(Float.floatToFloat16(uniform(rnd)));
                case BF16 -> out.putShort(bf16(uniform(rnd)));
                case Q8_0 -> out.put(q8_0Block(scale(rnd), codes(rnd, 32, -128, 127)));
                case Q4_0 -> out.put(q4_0Block(scale(rnd), codes(rnd, 32, 0, 15)));
                case Q4_K -> out.put(q4_KBlock(scale(rnd), scale(rnd), codes(rnd, 8, 0, 63), codes(rnd, 8, 0, 63),
                        codes(rnd, 256, 0, 15)));
                case Q6_K -> out.put(q6_KBlock(scale(rnd), codes(rnd, 16, -128, 127), codes(rnd, 256, -32, 31)));
            }
        }
        return tensor("random-" + type, type, rows, cols, out.array());
    }

    /** A seeded random activation vector in [-1, 1). */
    public static float[] randomVector(int n, long seed) {
        Random rnd = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = uniform(rnd);
        }
        return x;
    }

    /** {@code values} (a whole number of blocks) encoded as {@code type}, block after block. */
    public static byte[] encode(GgmlType type, float[] values) {
        int n = type.blockSize();
        if (values.length % n != 0) {
            throw new IllegalArgumentException("%d values are not whole %s blocks".formatted(values.length, type));
        }
        ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(type.bytesFor(values.length)))
                .order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < values.length; i += n) {
            float v = values[i];
            switch (type) {
                case F32 -> out.putFloat(v);
                case F16 -> out.putShort(Float.floatToFloat16(v));
                case BF16 -> out.putShort(bf16(v));
                case Q8_0 -> out.put(quantizeQ8_0(values, i));
                case Q4_0 -> out.put(quantizeQ4_0(values, i));
                case Q4_K -> out.put(quantizeQ4_K(values, i));
                case Q6_K -> out.put(quantizeQ6_K(values, i));
            }
        }
        return out.array();
    }

    // Block packers. Codes are given in element order.

    /** Q8_0: fp16 d, int8 codes[32] in [-128, 127]. */
    public static byte[] q8_0Block(float d, int[] codes) {
        check(codes, 32, -128, 127, "Q8_0 code");
        ByteBuffer b = block(GgmlType.Q8_0).putShort(Float.floatToFloat16(d));
        for (int q : codes) {
            b.put((byte) q);
        }
        return b.array();
    }

    /** Q4_0: fp16 d, codes[32] in [0, 15]; element j is code j, weight (code - 8) * d. */
    public static byte[] q4_0Block(float d, int[] codes) {
        check(codes, 32, 0, 15, "Q4_0 code");
        ByteBuffer b = block(GgmlType.Q4_0).putShort(Float.floatToFloat16(d));
        for (int j = 0; j < 16; j++) {
            b.put((byte) (codes[j] | codes[j + 16] << 4));
        }
        return b.array();
    }

    /**
     * Q4_K: fp16 d and dmin, 6-bit scales[8] and mins[8], codes[256] in [0, 15]; element e of sub-block j = e / 32
     * is {@code d * scales[j] * code - dmin * mins[j]}.
     */
    public static byte[] q4_KBlock(float d, float dmin, int[] scales, int[] mins, int[] codes) {
        check(scales, 8, 0, 63, "Q4_K scale");
        check(mins, 8, 0, 63, "Q4_K min");
        check(codes, 256, 0, 15, "Q4_K code");
        ByteBuffer b = block(GgmlType.Q4_K).putShort(Float.floatToFloat16(d)).putShort(Float.floatToFloat16(dmin));
        // Bytes 0..3: scale j low 6 bits, scale j+4 high 2 bits; 4..7: the same for mins; 8..11: low nibbles of
        // scale j+4 and min j+4.
        for (int j = 0; j < 4; j++) {
            b.put((byte) (scales[j] | (scales[j + 4] >> 4) << 6));
        }
        for (int j = 0; j < 4; j++) {
            b.put((byte) (mins[j] | (mins[j + 4] >> 4) << 6));
        }
        for (int j = 0; j < 4; j++) {
            b.put((byte) ((scales[j + 4] & 0xF) | (mins[j + 4] & 0xF) << 4));
        }
        for (int chunk = 0; chunk < 4; chunk++) {
            for (int l = 0; l < 32; l++) {
                b.put((byte) (codes[64 * chunk + l] | codes[64 * chunk + 32 + l] << 4));
            }
        }
        return b.array();
    }

    /** Q6_K: fp16 d, int8 scales[16], codes[256] in [-32, 31]; element e is {@code d * scales[e / 16] * code}. */
    public static byte[] q6_KBlock(float d, int[] scales, int[] codes) {
        check(scales, 16, -128, 127, "Q6_K scale");
        check(codes, 256, -32, 31, "Q6_K code");
        byte[] b = new byte[GgmlType.Q6_K.blockBytes()];
        for (int half = 0; half < 2; half++) {
            for (int l = 0; l < 32; l++) {
                int[] u = new int[4]; // the unsigned 6-bit codes of elements l, l + 32, l + 64, l + 96 of the half
                for (int k = 0; k < 4; k++) {
                    u[k] = codes[128 * half + l + 32 * k] + 32;
                }
                b[64 * half + l] = (byte) ((u[0] & 0xF) | (u[2] & 0xF) << 4);
                b[64 * half + l + 32] = (byte) ((u[1] & 0xF) | (u[3] & 0xF) << 4);
                b[ScalarKernels.Q6_K_QH + 32 * half + l] =
                        (byte) (u[0] >> 4 | (u[1] >> 4) << 2 | (u[2] >> 4) << 4 | (u[3] >> 4) << 6);
            }
        }
        for (int i = 0; i < 16; i++) {
            b[ScalarKernels.Q6_K_SCALES + i] = (byte) scales[i];
        }
        short d16 = Float.floatToFloat16(d);
        b[ScalarKernels.Q6_K_D] = (byte) d16;
        b[ScalarKernels.Q6_K_D + 1] = (byte) (d16 >> 8);
        return b;
    }

    /** BF16 bits of {@code v}, rounded to nearest even (NaN stays NaN). */
    public static short bf16(float v) {
        int bits = Float.floatToRawIntBits(v);
        if (Float.isNaN(v)) {
            return (short) ((bits >>> 16) | 0x40);
        }
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }

    // Quantizers: plain round-to-nearest with GGML's layouts; good enough to build test data.

    private static byte[] quantizeQ8_0(float[] v, int at) {
        float d = fp16(maxAbs(v, at, 32) / 127f);
        int[] q = new int[32];
        for (int j = 0; j < 32; j++) {
            q[j] = d == 0 ? 0 : clamp(Math.round(v[at + j] / d), -128, 127);
        }
        return q8_0Block(d, q);
    }

    private static byte[] quantizeQ4_0(float[] v, int at) {
        float d = fp16(signedMaxAbs(v, at, 32) / -8f);
        int[] q = new int[32];
        for (int j = 0; j < 32; j++) {
            q[j] = d == 0 ? 8 : clamp(Math.round(v[at + j] / d) + 8, 0, 15);
        }
        return q4_0Block(d, q);
    }

    private static byte[] quantizeQ4_K(float[] v, int at) {
        float[] scale = new float[8];
        float[] min = new float[8]; // subtracted: x = scale * q - min, min >= 0
        for (int j = 0; j < 8; j++) {
            float lo = 0;
            float hi = 0;
            for (int l = 0; l < 32; l++) {
                lo = Math.min(lo, v[at + 32 * j + l]);
                hi = Math.max(hi, v[at + 32 * j + l]);
            }
            scale[j] = (hi - lo) / 15f;
            min[j] = -lo;
        }
        float d = fp16(max(scale) / 63f);
        float dmin = fp16(max(min) / 63f);
        int[] sc = new int[8];
        int[] m = new int[8];
        int[] q = new int[256];
        for (int j = 0; j < 8; j++) {
            sc[j] = d == 0 ? 0 : clamp(Math.round(scale[j] / d), 0, 63);
            m[j] = dmin == 0 ? 0 : clamp(Math.round(min[j] / dmin), 0, 63);
            float step = d * sc[j];
            for (int l = 0; l < 32; l++) {
                float x = v[at + 32 * j + l] + dmin * m[j];
                q[32 * j + l] = step == 0 ? 0 : clamp(Math.round(x / step), 0, 15);
            }
        }
        return q4_KBlock(d, dmin, sc, m, q);
    }

    private static byte[] quantizeQ6_K(float[] v, int at) {
        float[] scale = new float[16];
        for (int g = 0; g < 16; g++) {
            scale[g] = signedMaxAbs(v, at + 16 * g, 16) / -32f;
        }
        float d = 0;
        for (float s : scale) {
            d = Math.max(d, Math.abs(s));
        }
        d = fp16(d / 127f);
        int[] sc = new int[16];
        int[] q = new int[256];
        for (int g = 0; g < 16; g++) {
            sc[g] = d == 0 ? 0 : clamp(Math.round(scale[g] / d), -128, 127);
            float step = d * sc[g];
            for (int l = 0; l < 16; l++) {
                q[16 * g + l] = step == 0 ? 0 : clamp(Math.round(v[at + 16 * g + l] / step), -32, 31);
            }
        }
        return q6_KBlock(d, sc, q);
    }

    private static ByteBuffer block(GgmlType type) {
        return ByteBuffer.allocate(type.blockBytes()).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static void check(int[] values, int length, int lo, int hi, String what) {
        if (values.length != length) {
            throw new IllegalArgumentException("%d values of %s, need %d".formatted(values.length, what, length));
        }
        for (int v : values) {
            if (v < lo || v > hi) {
                throw new IllegalArgumentException("%s %d outside [%d, %d]".formatted(what, v, lo, hi));
            }
        }
    }

    private static float uniform(RandomGenerator rnd) {
        return rnd.nextFloat() * 2 - 1;
    }

    private static float scale(RandomGenerator rnd) {
        return fp16(Math.scalb(1 + rnd.nextFloat(), -10 + rnd.nextInt(4)));
    }

    private static int[] codes(RandomGenerator rnd, int n, int lo, int hi) {
        int[] q = new int[n];
        for (int i = 0; i < n; i++) {
            q[i] = rnd.nextInt(lo, hi + 1);
        }
        return q;
    }

    private static float fp16(float v) {
        return Float.float16ToFloat(Float.floatToFloat16(v));
    }

    private static float maxAbs(float[] v, int at, int n) {
        return Math.abs(signedMaxAbs(v, at, n));
    }

    /** The value of largest magnitude, with its sign. */
    private static float signedMaxAbs(float[] v, int at, int n) {
        float m = 0;
        for (int i = at; i < at + n; i++) {
            if (Math.abs(v[i]) > Math.abs(m)) {
                m = v[i];
            }
        }
        return m;
    }

    private static float max(float[] v) {
        float m = 0;
        for (float x : v) {
            m = Math.max(m, x);
        }
        return m;
    }

    private static int clamp(int v, int lo, int hi) {
        return Math.clamp(v, lo, hi);
    }
}
