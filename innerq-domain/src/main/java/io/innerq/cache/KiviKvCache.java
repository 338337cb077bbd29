package io.innerq.cache;

import io.innerq.port.out.KvCache;
import io.innerq.port.out.KvCachePort.CacheGeometry;
import io.innerq.quant.BitPacking;
import io.innerq.quant.GroupQuantizer;
import io.innerq.quant.QuantMode;

import java.util.Arrays;

/**
 * KIVI (scalar reference), following the authors' code: asymmetric b-bit, keys grouped per channel over G tokens,
 * values per token over Gv channels; groups run along the output dimension, so attention dequantizes every element
 * ({@code s * c + z}) before its multiply-add. That per-element work is what InnerQ's inner grouping removes.
 *
 * <p>Regions of a layer, with R = {@link KvMode.Kivi#RESIDUAL}, n = tokens stored:
 * <pre>
 *   [0, keyEnd)     keys quantized; keyEnd is a multiple of R
 *   [keyEnd, n)     keys in fp32 (the residual): 1..R in decode
 *   [0, valueEnd)   values quantized
 *   [valueEnd, n)   values in fp32: R + 1 in decode once n > R
 * </pre>
 * As in KIVI: the prompt runs in fp32 (exact attention); at its end, keys of the first {@code n - n % R} tokens and
 * values of all but the last R are quantized. In decode, before a token is appended (that is, after the previous
 * step's attention, where KIVI flushes), a full residual of R keys is quantized, and the oldest value when more than
 * R are held.
 */
public final class KiviKvCache implements KvCache {

    private final CacheGeometry g;
    private final KvMode.Kivi mode;
    private final int capacity;
    private final int hd;
    private final int kvHeads;
    private final int perKv;
    private final int bits;
    private final int kGroup;        // G: tokens per key group
    private final int vGroup;        // Gv: channels per value group
    private final int vGroups;       // value groups per head
    private final int residual;      // R
    private final int kWords;        // words per key group
    private final int vWords;        // words per value group
    private final int keySlots;      // min(R, capacity)
    private final int valueSlots;    // min(R + 1, capacity)
    private final int maxKeyGroups;  // capacity / G token groups
    private final int maxValueTokens; // capacity - R

    // Key residual: fp32 [layer][kvHead][slot][channel], slot = t % keySlots
    private final float[][] ringK;
    // Value residual: fp32 [layer][kvHead][slot][channel], slot = t % valueSlots
    private final float[][] ringV;
    // K codes: bits [layer][kvHead][tokenGroup][channel], kWords words per group of G tokens (token i of the group = code i)
    private final int[][] keyCodes;
    // K scales and zero points: fp16 [layer][kvHead][tokenGroup][channel] (every group asymmetric: sign bit set)
    private final short[][] keyScales;
    private final short[][] keyZeros;
    // V codes: bits [layer][kvHead][token][channelGroup], vWords words per group of Gv channels
    private final int[][] valueCodes;
    // V scales and zero points: fp16 [layer][kvHead][token][channelGroup]
    private final short[][] valueScales;
    private final short[][] valueZeros;

    private final int[] length;   // [layer] tokens stored
    private final int[] keyEnd;   // [layer] keys of [0, keyEnd) quantized
    private final int[] valueEnd; // [layer] values of [0, valueEnd) quantized
    private PrefillBuffer prefill;

    private final GroupQuantizer quantizer;
    private final float[] scores; // [perKv][capacity]
    private final float[] row;    // [max(G, Gv)] a group gathered for quantization
    private final int[] codes;    // [max(G, Gv)]

    public KiviKvCache(CacheGeometry geometry, int capacity, KvMode.Kivi mode) {
        Positions.checkCapacity(capacity);
        this.g = geometry;
        this.mode = mode;
        this.capacity = capacity;
        hd = geometry.headDim();
        kvHeads = geometry.kvHeads();
        perKv = geometry.groupSize();
        bits = mode.bits();
        kGroup = KvMode.Kivi.GROUP;
        vGroup = KvMode.Kivi.valueGroup(hd);
        vGroups = hd / vGroup;
        residual = KvMode.Kivi.RESIDUAL;
        kWords = BitPacking.words(bits, kGroup);
        vWords = BitPacking.words(bits, vGroup);
        keySlots = Math.min(residual, capacity);
        valueSlots = Math.min(residual + 1, capacity);
        maxKeyGroups = capacity / kGroup;
        maxValueTokens = Math.max(0, capacity - residual);

        int layers = geometry.layers();
        int keyGroupCount = Groups.length((long) kvHeads * maxKeyGroups * hd, "the KIVI key scales of one layer");
        int valueGroupCount = Groups.length((long) kvHeads * maxValueTokens * vGroups, "the KIVI value scales of one layer");
        ringK = new float[layers][kvHeads * keySlots * hd];
        ringV = new float[layers][kvHeads * valueSlots * hd];
        keyCodes = new int[layers][Groups.length((long) keyGroupCount * kWords, "the KIVI key codes of one layer")];
        keyScales = new short[layers][keyGroupCount];
        keyZeros = new short[layers][keyGroupCount];
        valueCodes = new int[layers][Groups.length((long) valueGroupCount * vWords, "the KIVI value codes of one layer")];
        valueScales = new short[layers][valueGroupCount];
        valueZeros = new short[layers][valueGroupCount];
        length = new int[layers];
        keyEnd = new int[layers];
        valueEnd = new int[layers];
        prefill = new PrefillBuffer(geometry, capacity);
        quantizer = new GroupQuantizer(bits, QuantMode.ASYMMETRIC, Math.max(kGroup, vGroup));
        scores = new float[Groups.length((long) perKv * capacity, "the attention scores")];
        row = new float[Math.max(kGroup, vGroup)];
        codes = new int[Math.max(kGroup, vGroup)];
    }

    @Override
    public void store(int layer, int position, float[] k, float[] v) {
        Positions.checkNext(layer, position, length[layer], capacity);
        if (prefill != null) {
            prefill.store(layer, position, k, v);
        } else {
            int n = length[layer];
            if (n - keyEnd[layer] == residual) {
                for (int t = keyEnd[layer]; t < n; t += kGroup) {
                    quantizeKeyGroup(layer, t);
                }
                keyEnd[layer] = n;
            }
            if (n - valueEnd[layer] > residual) {
                quantizeValue(layer, valueEnd[layer]);
                valueEnd[layer]++;
            }
            for (int kvh = 0; kvh < kvHeads; kvh++) {
                System.arraycopy(k, kvh * hd, ringK[layer], (kvh * keySlots + position % keySlots) * hd, hd);
                System.arraycopy(v, kvh * hd, ringV[layer], (kvh * valueSlots + position % valueSlots) * hd, hd);
            }
        }
        length[layer]++;
    }

    @Override
    public void endPrefill(int promptLength) {
        if (prefill == null) {
            throw new IllegalStateException("endPrefill was already called");
        }
        for (int l = 0; l < g.layers(); l++) {
            if (length[l] != promptLength) {
                throw new IllegalStateException("endPrefill(%d), but layer %d holds %d tokens: run the whole prompt first"
                        .formatted(promptLength, l, length[l]));
            }
        }
        int kvDim = g.kvDim();
        int keysQuantized = promptLength < residual ? 0 : promptLength - promptLength % residual;
        int valuesQuantized = Math.max(0, promptLength - residual);
        for (int l = 0; l < g.layers(); l++) {
            for (int t = 0; t < keysQuantized; t += kGroup) {
                quantizeKeyGroup(l, t);
            }
            for (int t = 0; t < valuesQuantized; t++) {
                quantizeValue(l, t);
            }
            keyEnd[l] = keysQuantized;
            valueEnd[l] = valuesQuantized;
            float[] keys = prefill.keys(l);
            float[] values = prefill.values(l);
            for (int t = 0; t < promptLength; t++) {
                for (int kvh = 0; kvh < kvHeads; kvh++) {
                    if (t >= keysQuantized) {
                        System.arraycopy(keys, t * kvDim + kvh * hd, ringK[l], (kvh * keySlots + t % keySlots) * hd, hd);
                    }
                    if (t >= valuesQuantized) {
                        System.arraycopy(values, t * kvDim + kvh * hd, ringV[l], (kvh * valueSlots + t % valueSlots) * hd, hd);
                    }
                }
            }
        }
        prefill = null;
    }

    /** fp32 key of token t from the prefill buffer while it exists, else from the residual. */
    private float key(int l, int t, int kvh, int c) {
        return prefill != null
                ? prefill.keys(l)[t * g.kvDim() + kvh * hd + c]
                : ringK[l][(kvh * keySlots + t % keySlots) * hd + c];
    }

    private float value(int l, int t, int kvh, int c) {
        return prefill != null
                ? prefill.values(l)[t * g.kvDim() + kvh * hd + c]
                : ringV[l][(kvh * valueSlots + t % valueSlots) * hd + c];
    }

    /** Quantizes keys of tokens [t0, t0 + G): one group per KV head and channel. */
    private void quantizeKeyGroup(int l, int t0) {
        int tg = t0 / kGroup;
        for (int kvh = 0; kvh < kvHeads; kvh++) {
            for (int c = 0; c < hd; c++) {
                for (int i = 0; i < kGroup; i++) {
                    row[i] = key(l, t0 + i, kvh, c);
                }
                int group = (kvh * maxKeyGroups + tg) * hd + c;
                keyScales[l][group] = quantizer.quantize(row, 0, kGroup, codes, 0);
                keyZeros[l][group] = quantizer.zeroPoint();
                BitPacking.pack(codes, 0, kGroup, bits, keyCodes[l], group * kWords);
            }
        }
    }

    /** Quantizes the value of token t: Gv-channel groups per KV head. */
    private void quantizeValue(int l, int t) {
        for (int kvh = 0; kvh < kvHeads; kvh++) {
            for (int vg = 0; vg < vGroups; vg++) {
                for (int i = 0; i < vGroup; i++) {
                    row[i] = value(l, t, kvh, vg * vGroup + i);
                }
                int group = (kvh * maxValueTokens + t) * vGroups + vg;
                valueScales[l][group] = quantizer.quantize(row, 0, vGroup, codes, 0);
                valueZeros[l][group] = quantizer.zeroPoint();
                BitPacking.pack(codes, 0, vGroup, bits, valueCodes[l], group * vWords);
            }
        }
    }

    @Override
    public void attend(int layer, int position, float[] q, float[] out) {
        Positions.checkNewest(layer, position, length[layer]);
        if (prefill != null) {
            prefill.attend(layer, position, q, out, scores);
            return;
        }
        int n = position + 1;
        int kEnd = keyEnd[layer];
        int vEnd = valueEnd[layer];
        float scale = ExactAttention.scoreScale(hd);
        int[] kc = keyCodes[layer];
        short[] ks = keyScales[layer];
        short[] kz = keyZeros[layer];
        int[] vc = valueCodes[layer];
        short[] vs = valueScales[layer];
        short[] vz = valueZeros[layer];
        for (int kvh = 0; kvh < kvHeads; kvh++) {
            int h0 = kvh * perKv;
            // scores: quantized keys, every element dequantized (its group's scale and zero run along tokens)
            for (int j = 0; j < perKv; j++) {
                Arrays.fill(scores, j * capacity, j * capacity + kEnd, 0f);
            }
            for (int tg = 0; tg < kEnd / kGroup; tg++) {
                for (int c = 0; c < hd; c++) {
                    int group = (kvh * maxKeyGroups + tg) * hd + c;
                    float s = GroupQuantizer.scale(ks[group]);
                    float z = Float.float16ToFloat(kz[group]);
                    for (int i = 0; i < kGroup; i++) {
                        float k = s * BitPacking.unsigned(kc, group * kWords, bits, i) + z;
                        int t = tg * kGroup + i;
                        for (int j = 0; j < perKv; j++) {
                            scores[j * capacity + t] += q[(h0 + j) * hd + c] * k;
                        }
                    }
                }
            }
            // scores: key residual
            for (int t = kEnd; t < n; t++) {
                int ko = (kvh * keySlots + t % keySlots) * hd;
                for (int j = 0; j < perKv; j++) {
                    float s = 0f;
                    for (int c = 0; c < hd; c++) {
                        s += q[(h0 + j) * hd + c] * ringK[layer][ko + c];
                    }
                    scores[j * capacity + t] = s;
                }
            }
            for (int j = 0; j < perKv; j++) {
                for (int t = 0; t < n; t++) {
                    scores[j * capacity + t] *= scale;
                }
                ExactAttention.softmax(scores, j * capacity, n);
                Arrays.fill(out, (h0 + j) * hd, (h0 + j + 1) * hd, 0f);
            }
            // out: quantized values, every element dequantized
            for (int t = 0; t < vEnd; t++) {
                for (int vg = 0; vg < vGroups; vg++) {
                    int group = (kvh * maxValueTokens + t) * vGroups + vg;
                    float s = GroupQuantizer.scale(vs[group]);
                    float z = Float.float16ToFloat(vz[group]);
                    for (int i = 0; i < vGroup; i++) {
                        float v = s * BitPacking.unsigned(vc, group * vWords, bits, i) + z;
                        int c = vg * vGroup + i;
                        for (int j = 0; j < perKv; j++) {
                            out[(h0 + j) * hd + c] += scores[j * capacity + t] * v;
                        }
                    }
                }
            }
            // out: value residual
            for (int t = vEnd; t < n; t++) {
                int vo = (kvh * valueSlots + t % valueSlots) * hd;
                for (int j = 0; j < perKv; j++) {
                    float p = scores[j * capacity + t];
                    for (int c = 0; c < hd; c++) {
                        out[(h0 + j) * hd + c] += p * ringV[layer][vo + c];
                    }
                }
            }
        }
    }

    @Override
    public int capacity() {
        return capacity;
    }

    /** While the prompt runs, its fp32 copy; then the residuals in fp32 and the codes, scales and zero points. */
    @Override
    public long bytesInUse() {
        if (prefill != null) {
            return prefill.bytesInUse();
        }
        long bytes = 0;
        for (int l = 0; l < g.layers(); l++) {
            int n = length[l];
            bytes += (long) (2 * n - keyEnd[l] - valueEnd[l]) * g.kvDim() * Float.BYTES;
            bytes += (long) kvHeads * (keyEnd[l] / kGroup) * hd * (kWords * 4L + 4);
            bytes += (long) kvHeads * valueEnd[l] * vGroups * (vWords * 4L + 4);
        }
        return bytes;
    }

    long bytesReserved() {
        long bytes = prefill != null ? prefill.bytesReserved() : 0;
        for (int l = 0; l < g.layers(); l++) {
            bytes += 4L * (ringK[l].length + ringV[l].length + keyCodes[l].length + valueCodes[l].length);
            bytes += 2L * (keyScales[l].length + keyZeros[l].length + valueScales[l].length + valueZeros[l].length);
        }
        return bytes;
    }

    // Read-only views of the storage, for adapters whose attention kernels read this layout (the class comment and
    // io.innerq.cache's package comment give it). The arrays are the live storage of a layer: read them, never write.

    /** Tokens stored in a layer. */
    public int length(int layer) {
        return length[layer];
    }

    /** Keys of positions [0, keyEnd) are quantized; keyEnd is a multiple of {@link KvMode.Kivi#GROUP}. */
    public int keyEnd(int layer) {
        return keyEnd[layer];
    }

    /** Values of positions [0, valueEnd) are quantized. */
    public int valueEnd(int layer) {
        return valueEnd[layer];
    }

    public KvMode.Kivi mode() {
        return mode;
    }

    /** Whether the prompt still runs: everything is in {@link #prefillKeys}/{@link #prefillValues} until endPrefill. */
    public boolean prefilling() {
        return prefill != null;
    }

    /** fp32 {@code [token][kvHead][channel]}, tokens {@code [0, position]} valid, while {@link #prefilling()}. */
    public float[] prefillKeys(int layer) {
        return prefillBuffer().keys(layer);
    }

    /** fp32 {@code [token][kvHead][channel]}, tokens {@code [0, position]} valid, while {@link #prefilling()}. */
    public float[] prefillValues(int layer) {
        return prefillBuffer().values(layer);
    }

    private PrefillBuffer prefillBuffer() {
        if (prefill == null) {
            throw new IllegalStateException("the prompt has ended: its keys and values are in the residuals and quantized regions");
        }
        return prefill;
    }

    /** Token slots of the key residual: {@code min(R, capacity)}; position t is in slot {@code t % slots}. */
    public int residualKeySlots() {
        return keySlots;
    }

    /** Token slots of the value residual: {@code min(R + 1, capacity)}; position t is in slot {@code t % slots}. */
    public int residualValueSlots() {
        return valueSlots;
    }

    /** Token groups of quantized keys per KV head: {@code capacity / G}. */
    public int keyGroupSlots() {
        return maxKeyGroups;
    }

    /** Token slots of quantized values per KV head: {@code capacity - R}. */
    public int valueTokenSlots() {
        return maxValueTokens;
    }

    /** Key residual: fp32 {@code [kvHead][slot][channel]}. */
    public float[] residualKeys(int layer) {
        return ringK[layer];
    }

    /** Value residual: fp32 {@code [kvHead][slot][channel]}. */
    public float[] residualValues(int layer) {
        return ringV[layer];
    }

    /** K codes: b-bit {@code [kvHead][tokenGroup][channel]}, a group = G tokens of one channel (token i = code i). */
    public int[] keyCodes(int layer) {
        return keyCodes[layer];
    }

    /** K scales: fp16 {@code [kvHead][tokenGroup][channel]} (every group asymmetric: sign bit set). */
    public short[] keyScales(int layer) {
        return keyScales[layer];
    }

    /** K zero points: fp16 {@code [kvHead][tokenGroup][channel]}. */
    public short[] keyZeros(int layer) {
        return keyZeros[layer];
    }

    /** V codes: b-bit {@code [kvHead][token][channelGroup]}, a group = Gv channels of one token. */
    public int[] valueCodes(int layer) {
        return valueCodes[layer];
    }

    /** V scales: fp16 {@code [kvHead][token][channelGroup]} (sign bit set). */
    public short[] valueScales(int layer) {
        return valueScales[layer];
    }

    /** V zero points: fp16 {@code [kvHead][token][channelGroup]}. */
    public short[] valueZeros(int layer) {
        return valueZeros[layer];
    }

    @Override
    public void close() {
        prefill = null;
    }
}
