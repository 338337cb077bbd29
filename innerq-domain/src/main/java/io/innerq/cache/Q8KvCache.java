package io.innerq.cache;

import io.innerq.port.out.KvCache;
import io.innerq.port.out.KvCachePort.CacheGeometry;
import io.innerq.quant.GroupQuantizer;

/**
 * llama.cpp's q8_0 for keys and values, quantized on store: per token, per group of {@code group} channels (32, or
 * head_dim below 32), {@code d = max|x| / 127} stored as fp16, {@code c = round(x * (1/d))} with the fp32 d
 * (ggml's {@code quantize_row_q8_0_ref}), {@code x^ = fp16(d) * c}. Scores apply d once per group; values are
 * dequantized per element.
 */
public final class Q8KvCache implements KvCache {

    private final CacheGeometry g;
    private final int capacity;
    private final int group;        // channels per group
    private final int groups;       // groups per token: kvDim / group
    private final byte[][] keys;    // int8 [layer][token][kvHead][channel]
    private final short[][] kScale; // fp16 [layer][token][kvHead * headDim / group]
    private final byte[][] values;  // int8 [layer][token][kvHead][channel]
    private final short[][] vScale; // fp16 [layer][token][kvHead * headDim / group]
    private final int[] length;     // [layer] highest stored position + 1
    private final float[] scores;   // [capacity] scratch

    public Q8KvCache(CacheGeometry geometry, int capacity) {
        Positions.checkCapacity(capacity);
        this.g = geometry;
        this.capacity = capacity;
        this.group = KvMode.Q8.group(geometry.headDim());
        this.groups = geometry.kvDim() / group;
        int elements = Groups.length((long) capacity * geometry.kvDim(), "a q8_0 cache of one layer");
        keys = new byte[geometry.layers()][elements];
        values = new byte[geometry.layers()][elements];
        kScale = new short[geometry.layers()][elements / group];
        vScale = new short[geometry.layers()][elements / group];
        length = new int[geometry.layers()];
        scores = new float[capacity];
    }

    @Override
    public void store(int layer, int position, float[] k, float[] v) {
        Positions.check(position, capacity);
        for (int b = 0; b < groups; b++) {
            kScale[layer][position * groups + b] = quantize(k, b * group, keys[layer], position * g.kvDim());
            vScale[layer][position * groups + b] = quantize(v, b * group, values[layer], position * g.kvDim());
        }
        length[layer] = Math.max(length[layer], position + 1);
    }

    /** Quantizes {@code x[off .. off+group)} into {@code codes[base + off ..)}; returns the fp16 scale. */
    private short quantize(float[] x, int off, byte[] codes, int base) {
        float amax = 0f;
        for (int i = 0; i < group; i++) {
            amax = Math.max(amax, Math.abs(x[off + i]));
        }
        float d = amax / 127;
        float id = d != 0f ? 1f / d : 0f;
        for (int i = 0; i < group; i++) {
            codes[base + off + i] = (byte) GroupQuantizer.round(x[off + i] * id);
        }
        return Float.floatToFloat16(d);
    }

    @Override
    public void attend(int layer, int position, float[] q, float[] out) {
        Positions.check(position, capacity);
        int hd = g.headDim();
        int kvDim = g.kvDim();
        float scale = ExactAttention.scoreScale(hd);
        byte[] kl = keys[layer];
        byte[] vl = values[layer];
        short[] ks = kScale[layer];
        short[] vs = vScale[layer];
        int groupsPerHead = hd / group;
        for (int h = 0; h < g.heads(); h++) {
            int qo = h * hd;
            int kvh = h / g.groupSize();
            int kvo = kvh * hd;
            for (int t = 0; t <= position; t++) {
                float s = 0f;
                for (int b = 0; b < groupsPerHead; b++) {
                    int ko = t * kvDim + kvo + b * group;
                    float acc = 0f;
                    for (int i = 0; i < group; i++) {
                        acc += q[qo + b * group + i] * kl[ko + i];
                    }
                    s += Float.float16ToFloat(ks[t * groups + kvh * groupsPerHead + b]) * acc;
                }
                scores[t] = s * scale;
            }
            ExactAttention.softmax(scores, 0, position + 1);
            for (int d = 0; d < hd; d++) {
                out[qo + d] = 0f;
            }
            for (int t = 0; t <= position; t++) {
                float p = scores[t];
                int vo = t * kvDim + kvo;
                for (int d = 0; d < hd; d++) {
                    float dv = Float.float16ToFloat(vs[t * groups + kvh * groupsPerHead + d / group]);
                    out[qo + d] += p * (dv * vl[vo + d]);
                }
            }
        }
    }

    @Override
    public int capacity() {
        return capacity;
    }

    @Override
    public long bytesInUse() {
        long tokens = 0;
        for (int n : length) {
            tokens += n;
        }
        return 2L * tokens * groups * (group + 2);
    }

    long bytesReserved() {
        return 2L * g.layers() * capacity * groups * (group + 2);
    }

    // Read-only views of the storage, for adapters whose attention kernels read this layout. The arrays are the live
    // storage of a layer: read them, never write.

    /** Channels per group: 32, or head_dim below 32. */
    public int group() {
        return group;
    }

    /** K codes: int8 {@code [token][kvHead][channel]}. */
    public byte[] keys(int layer) {
        return keys[layer];
    }

    /** K scales d: fp16 {@code [token][kvHead * headDim / group]}. */
    public short[] keyScales(int layer) {
        return kScale[layer];
    }

    /** V codes: int8 {@code [token][kvHead][channel]}. */
    public byte[] values(int layer) {
        return values[layer];
    }

    /** V scales d: fp16 {@code [token][kvHead * headDim / group]}. */
    public short[] valueScales(int layer) {
        return vScale[layer];
    }

    @Override
    public void close() {
    }
}
