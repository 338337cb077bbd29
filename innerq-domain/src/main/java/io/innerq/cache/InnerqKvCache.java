package io.innerq.cache;

import io.innerq.port.out.KvCache;
import io.innerq.port.out.KvCachePort.CacheGeometry;
import io.innerq.quant.BitPacking;
import io.innerq.quant.GroupQuantizer;
import io.innerq.quant.QuantMode;

import java.util.Arrays;

/**
 * The InnerQ cache (scalar reference): groups run along each reduction, so attention applies one scale per group.
 *
 * <p>Regions of a layer, by position t, with S = sink, R = recent, G = value group (tokens), n = tokens stored:
 * <pre>
 *   [0, S)                sink: fp32 for ever
 *   [S, keyEnd)           keys quantized, per token over groups of Gk channels (Gk = G, or head_dim when smaller)
 *   [S, valueEnd)         values quantized, per channel over blocks of G tokens; valueEnd - S is a multiple of G
 *   [keyEnd, n)           keys in the fp32 window: n - keyEnd >= R always (== R once keys have started to leave)
 *   [valueEnd, n)         values in the fp32 window: R <= n - valueEnd < R + G once past S + R
 * </pre>
 * While the prompt runs everything is fp32 ({@link PrefillBuffer}) and attention is exact. From
 * {@link #endPrefill} on, after every store: a value block leaves the window when the window holds R + G values;
 * keys leave one token at a time to keep R in the window, but only once the first value block has left (so that
 * the key normalization sees at least a block: the middle of a prompt shorter than S + R + G waits in fp32).
 *
 * <p>Key normalization: per layer, per KV head, per channel {@code f_c = sqrt(max |K[t][c]|)} over the keys of the
 * first quantization (the prompt's middle {@code [S, n - R)} at {@link #endPrefill}, or the first flushed block
 * {@code [S, S + G)} during decode); 1 where that max is 0. Quantized keys store {@code K / f}; attention multiplies
 * q by f once per head ({@code q . k = (q * f) . (k / f)}).
 *
 * <p>Attention, per layer, per KV head, for all the query heads that share it (each group read once): scores over
 * the sink (fp32), the quantized keys ({@code s * dot(codes, q*f)} per group, {@code + z * sum(q*f)} for asymmetric
 * groups), the key window (fp32); one softmax; then out over the sink, the quantized values
 * ({@code s * dot(codes, p)} per group of G tokens, {@code + z * sum(p)} for asymmetric groups), the value window.
 */
public final class InnerqKvCache implements KvCache {

    private final CacheGeometry g;
    private final InnerqConfig config;
    private final int capacity;
    private final int hd;             // head_dim
    private final int kvHeads;
    private final int perKv;          // query heads per KV head
    private final int sink;           // S
    private final int recent;         // R
    private final int vGroup;         // G: tokens per value group
    private final int kGroup;         // Gk: channels per key group
    private final int kGroups;        // key groups per head: hd / Gk
    private final int kWords;         // words per key group
    private final int vWords;         // words per value group
    private final int sinkSlots;      // min(S, capacity)
    private final int ringSlots;      // min(R + G, capacity - S): the window ring
    private final int maxKeyTokens;   // capacity - S - R: the most quantized keys
    private final int maxValueGroups; // (capacity - S - R) / G: the most quantized value blocks

    // Sink: fp32 [layer][kvHead][t][channel], t < sinkSlots
    private final float[][] sinkK;
    private final float[][] sinkV;
    // Window ring: fp32 [layer][kvHead][slot][channel], slot = (t - S) % ringSlots; holds positions [valueEnd, n)
    private final float[][] ringK;
    private final float[][] ringV;
    // K codes: kBits [layer][kvHead][t - S][keyGroup], kWords packed 32-bit words per group
    private final int[][] keyCodes;
    // K scales: fp16 [layer][kvHead][t - S][keyGroup], sign bit set = asymmetric group
    private final short[][] keyScales;
    // K zero points: fp16 [layer][kvHead][t - S][rank], rank = index among the token's asymmetric groups, in group
    // order (kGroups slots reserved per token, only the asymmetric groups' used); empty for symmetric keys
    private final short[][] keyZeros;
    // V codes: vBits [layer][kvHead][channel][tokenGroup], vWords packed words per group of G tokens; tokenGroup j
    // holds tokens S + jG .. S + jG + G - 1
    private final int[][] valueCodes;
    // V scales: fp16 [layer][kvHead][channel][tokenGroup], sign bit set = asymmetric group
    private final short[][] valueScales;
    // V zero points: fp16 [layer][kvHead][tokenGroup][rank], rank = index among the block's asymmetric channels, in
    // channel order (hd slots reserved per block, only the asymmetric channels' used); empty for symmetric values
    private final short[][] valueZeros;
    // Key normalization f: fp32 [layer][kvHead][channel], 1 until computed; empty when normalization is off
    private final float[][] keyFactors;

    private final int[] length;          // [layer] tokens stored
    private final int[] keyEnd;          // [layer] keys of [S, keyEnd) quantized
    private final int[] valueEnd;        // [layer] values of [S, valueEnd) quantized
    private final boolean[] keysStarted; // [layer] keys leave the window (normalization computed)
    private final long[] keyZeroCount;   // [layer] key zero points written
    private final long[] valueZeroCount; // [layer] value zero points written
    private PrefillBuffer prefill;       // the prompt in fp32 until endPrefill, then null

    private final GroupQuantizer keyQuantizer;
    private final GroupQuantizer valueQuantizer;
    private final float[] scores;   // [perKv][capacity] scores, then probabilities
    private final float[] qf;       // [perKv][hd] q * f
    private final float[] qSum;     // [perKv][kGroups] sum of q * f over each key group
    private final float[] pSum;     // [perKv][maxValueGroups] sum of p over each value group
    private final int[] zeroCursor; // [maxValueGroups] next value zero point per block while reading
    private final float[] row;      // [max(hd, G)] a normalized key, or a channel of a value block
    private final int[] codes;      // [max(hd, G)] codes of a group before packing

    public InnerqKvCache(CacheGeometry geometry, int capacity, InnerqConfig config) {
        Positions.checkCapacity(capacity);
        this.g = geometry;
        this.config = config;
        this.capacity = capacity;
        hd = geometry.headDim();
        kvHeads = geometry.kvHeads();
        perKv = geometry.groupSize();
        sink = config.sink();
        recent = config.recent();
        vGroup = config.groupSize();
        kGroup = config.keyGroupSize(hd);
        kGroups = hd / kGroup;
        kWords = config.keyWords(hd);
        vWords = config.valueWords();
        sinkSlots = Math.min(sink, capacity);
        ringSlots = Math.clamp((long) recent + vGroup, 0, Math.max(0, capacity - sink));
        maxKeyTokens = Math.max(0, capacity - sink - recent);
        maxValueGroups = maxKeyTokens / vGroup;

        int layers = geometry.layers();
        int sinkLen = Groups.length((long) kvHeads * sinkSlots * hd, "the sink of one layer");
        int ringLen = Groups.length((long) kvHeads * ringSlots * hd, "the window of one layer");
        int keyGroupCount = Groups.length((long) kvHeads * maxKeyTokens * kGroups, "the key scales of one layer");
        int valueGroupCount = Groups.length((long) kvHeads * hd * maxValueGroups, "the value scales of one layer");
        sinkK = new float[layers][sinkLen];
        sinkV = new float[layers][sinkLen];
        ringK = new float[layers][ringLen];
        ringV = new float[layers][ringLen];
        keyCodes = new int[layers][Groups.length((long) keyGroupCount * kWords, "the key codes of one layer")];
        keyScales = new short[layers][keyGroupCount];
        keyZeros = new short[layers][config.keyMode() == QuantMode.SYMMETRIC ? 0 : keyGroupCount];
        valueCodes = new int[layers][Groups.length((long) valueGroupCount * vWords, "the value codes of one layer")];
        valueScales = new short[layers][valueGroupCount];
        valueZeros = new short[layers][config.valueMode() == QuantMode.SYMMETRIC ? 0 : valueGroupCount];
        keyFactors = new float[layers][config.keyNormalization() ? g.kvDim() : 0];
        for (float[] f : keyFactors) {
            Arrays.fill(f, 1f);
        }

        length = new int[layers];
        keyEnd = new int[layers];
        valueEnd = new int[layers];
        Arrays.fill(keyEnd, sink);
        Arrays.fill(valueEnd, sink);
        keysStarted = new boolean[layers];
        keyZeroCount = new long[layers];
        valueZeroCount = new long[layers];
        prefill = new PrefillBuffer(geometry, capacity);

        keyQuantizer = new GroupQuantizer(config.keyBits(), config.keyMode(), kGroup);
        valueQuantizer = new GroupQuantizer(config.valueBits(), config.valueMode(), vGroup);
        scores = new float[Groups.length((long) perKv * capacity, "the attention scores")];
        qf = new float[perKv * hd];
        qSum = new float[perKv * kGroups];
        pSum = new float[perKv * maxValueGroups];
        zeroCursor = new int[maxValueGroups];
        row = new float[Math.max(hd, vGroup)];
        codes = new int[Math.max(hd, vGroup)];
    }

    @Override
    public void store(int layer, int position, float[] k, float[] v) {
        Positions.checkNext(layer, position, length[layer], capacity);
        if (prefill != null) {
            prefill.store(layer, position, k, v);
        } else {
            append(layer, position, k, 0, v, 0);
        }
        length[layer]++;
    }

    /**
     * Ends prefill: computes the key normalization from the prompt's middle when at least a value block of it
     * leaves the window, then moves the prompt into the sink, the quantized regions and the window, exactly as if
     * its tokens had been decoded one by one with that normalization.
     */
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
        for (int l = 0; l < g.layers(); l++) {
            float[] keys = prefill.keys(l);
            float[] values = prefill.values(l);
            if (promptLength - sink - recent >= vGroup) {
                computeFactors(l, keys, sink, promptLength - recent, kvDim, 0);
            }
            for (int t = 0; t < promptLength; t++) {
                append(l, t, keys, t * kvDim, values, t * kvDim);
            }
        }
        prefill = null;
    }

    /** Puts token t (all KV heads) into the sink or the window, then flushes what leaves the window. */
    private void append(int l, int t, float[] k, int kOff, float[] v, int vOff) {
        for (int kvh = 0; kvh < kvHeads; kvh++) {
            int src = kvh * hd;
            int dst = t < sink ? (kvh * sinkSlots + t) * hd : (kvh * ringSlots + (t - sink) % ringSlots) * hd;
            System.arraycopy(k, kOff + src, t < sink ? sinkK[l] : ringK[l], dst, hd);
            System.arraycopy(v, vOff + src, t < sink ? sinkV[l] : ringV[l], dst, hd);
        }
        int n = t + 1;
        if (t < sink) {
            return;
        }
        if (n - valueEnd[l] >= recent + vGroup) {
            if (!keysStarted[l]) {
                computeFactors(l, ringK[l], valueEnd[l], valueEnd[l] + vGroup, -1, -1);
            }
            quantizeValueBlock(l);
            valueEnd[l] += vGroup;
        }
        if (keysStarted[l]) {
            while (n - keyEnd[l] > recent) {
                quantizeKey(l, keyEnd[l]);
                keyEnd[l]++;
            }
        }
    }

    /**
     * {@code f = sqrt(max |K[t][c]|)} over tokens {@code [from, to)}; from the prefill buffer ({@code keys[t * stride
     * + base + kvHead * hd + c]}) or, with {@code stride < 0}, from the window ring. Starts the keys' flushing.
     */
    private void computeFactors(int l, float[] keys, int from, int to, int stride, int base) {
        keysStarted[l] = true;
        if (!config.keyNormalization()) {
            return;
        }
        float[] f = keyFactors[l];
        for (int kvh = 0; kvh < kvHeads; kvh++) {
            for (int c = 0; c < hd; c++) {
                float max = 0f;
                for (int t = from; t < to; t++) {
                    int i = stride < 0
                            ? (kvh * ringSlots + (t - sink) % ringSlots) * hd + c
                            : t * stride + base + kvh * hd + c;
                    max = Math.max(max, Math.abs(keys[i]));
                }
                f[kvh * hd + c] = max == 0f ? 1f : (float) Math.sqrt(max);
            }
        }
    }

    /** Quantizes the key of token t (in the window) for every KV head. */
    private void quantizeKey(int l, int t) {
        int slot = (t - sink) % ringSlots;
        int kt = t - sink;
        for (int kvh = 0; kvh < kvHeads; kvh++) {
            int src = (kvh * ringSlots + slot) * hd;
            for (int c = 0; c < hd; c++) {
                float x = ringK[l][src + c];
                row[c] = config.keyNormalization() ? x / keyFactors[l][kvh * hd + c] : x;
            }
            int groupBase = (kvh * maxKeyTokens + kt) * kGroups;
            int rank = 0;
            for (int kg = 0; kg < kGroups; kg++) {
                short scale = keyQuantizer.quantize(row, kg * kGroup, kGroup, codes, 0);
                BitPacking.pack(codes, 0, kGroup, config.keyBits(), keyCodes[l], (groupBase + kg) * kWords);
                keyScales[l][groupBase + kg] = scale;
                if (GroupQuantizer.isAsymmetric(scale)) {
                    keyZeros[l][groupBase + rank++] = keyQuantizer.zeroPoint();
                }
            }
            keyZeroCount[l] += rank;
        }
    }

    /** Quantizes the values of tokens [valueEnd, valueEnd + G) (in the window): block j, every KV head and channel. */
    private void quantizeValueBlock(int l) {
        int from = valueEnd[l];
        int j = (from - sink) / vGroup;
        for (int kvh = 0; kvh < kvHeads; kvh++) {
            int rank = 0;
            for (int c = 0; c < hd; c++) {
                for (int i = 0; i < vGroup; i++) {
                    row[i] = ringV[l][(kvh * ringSlots + (from + i - sink) % ringSlots) * hd + c];
                }
                int group = (kvh * hd + c) * maxValueGroups + j;
                short scale = valueQuantizer.quantize(row, 0, vGroup, codes, 0);
                BitPacking.pack(codes, 0, vGroup, config.valueBits(), valueCodes[l], group * vWords);
                valueScales[l][group] = scale;
                if (GroupQuantizer.isAsymmetric(scale)) {
                    valueZeros[l][(kvh * maxValueGroups + j) * hd + rank++] = valueQuantizer.zeroPoint();
                }
            }
            valueZeroCount[l] += rank;
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
        int sinkEnd = Math.min(n, sink);
        int kEnd = Math.min(n, keyEnd[layer]);
        int vEnd = Math.min(n, valueEnd[layer]);
        int vBlocks = (vEnd - Math.min(n, sink)) / vGroup;
        float scale = ExactAttention.scoreScale(hd);
        int kb = config.keyBits();
        int vb = config.valueBits();
        float[] f = keyFactors[layer];
        for (int kvh = 0; kvh < kvHeads; kvh++) {
            int h0 = kvh * perKv;
            // q * f per head, and its sums per key group (for asymmetric key groups)
            for (int j = 0; j < perKv; j++) {
                for (int c = 0; c < hd; c++) {
                    float x = q[(h0 + j) * hd + c];
                    qf[j * hd + c] = config.keyNormalization() ? x * f[kvh * hd + c] : x;
                }
                for (int kg = 0; kg < kGroups; kg++) {
                    float s = 0f;
                    for (int c = kg * kGroup; c < (kg + 1) * kGroup; c++) {
                        s += qf[j * hd + c];
                    }
                    qSum[j * kGroups + kg] = s;
                }
            }
            // scores: sink
            for (int t = 0; t < sinkEnd; t++) {
                int ko = (kvh * sinkSlots + t) * hd;
                for (int j = 0; j < perKv; j++) {
                    scores[j * capacity + t] = dot(q, (h0 + j) * hd, sinkK[layer], ko);
                }
            }
            // scores: quantized keys, one scale per group of Gk channels
            int[] kc = keyCodes[layer];
            short[] ks = keyScales[layer];
            short[] kz = keyZeros[layer];
            for (int t = sink; t < kEnd; t++) {
                int groupBase = (kvh * maxKeyTokens + t - sink) * kGroups;
                for (int j = 0; j < perKv; j++) {
                    scores[j * capacity + t] = 0f;
                }
                int rank = 0;
                for (int kg = 0; kg < kGroups; kg++) {
                    short sb = ks[groupBase + kg];
                    float s = GroupQuantizer.scale(sb);
                    boolean asym = GroupQuantizer.isAsymmetric(sb);
                    float z = asym ? Float.float16ToFloat(kz[groupBase + rank++]) : 0f;
                    int wo = (groupBase + kg) * kWords;
                    for (int j = 0; j < perKv; j++) {
                        float acc = s * BitPacking.dot(kc, wo, kb, !asym, qf, j * hd + kg * kGroup, kGroup);
                        if (asym) {
                            acc += z * qSum[j * kGroups + kg];
                        }
                        scores[j * capacity + t] += acc;
                    }
                }
            }
            // scores: key window
            for (int t = Math.max(sink, kEnd); t < n; t++) {
                int ko = (kvh * ringSlots + (t - sink) % ringSlots) * hd;
                for (int j = 0; j < perKv; j++) {
                    scores[j * capacity + t] = dot(q, (h0 + j) * hd, ringK[layer], ko);
                }
            }
            for (int j = 0; j < perKv; j++) {
                for (int t = 0; t < n; t++) {
                    scores[j * capacity + t] *= scale;
                }
                ExactAttention.softmax(scores, j * capacity, n);
                for (int c = 0; c < hd; c++) {
                    out[(h0 + j) * hd + c] = 0f;
                }
            }
            // out: sink
            for (int t = 0; t < sinkEnd; t++) {
                accumulate(out, h0, scores, t, sinkV[layer], (kvh * sinkSlots + t) * hd);
            }
            // out: quantized values, one scale per group of G tokens
            int[] vc = valueCodes[layer];
            short[] vs = valueScales[layer];
            short[] vz = valueZeros[layer];
            if (config.valueMode() != QuantMode.SYMMETRIC) {
                for (int j = 0; j < perKv; j++) {
                    for (int b = 0; b < vBlocks; b++) {
                        float s = 0f;
                        for (int i = 0; i < vGroup; i++) {
                            s += scores[j * capacity + sink + b * vGroup + i];
                        }
                        pSum[j * maxValueGroups + b] = s;
                    }
                }
                Arrays.fill(zeroCursor, 0, vBlocks, 0);
            }
            for (int c = 0; c < hd; c++) {
                int groupBase = (kvh * hd + c) * maxValueGroups;
                for (int b = 0; b < vBlocks; b++) {
                    short sb = vs[groupBase + b];
                    float s = GroupQuantizer.scale(sb);
                    boolean asym = GroupQuantizer.isAsymmetric(sb);
                    float z = asym ? Float.float16ToFloat(vz[(kvh * maxValueGroups + b) * hd + zeroCursor[b]++]) : 0f;
                    int wo = (groupBase + b) * vWords;
                    for (int j = 0; j < perKv; j++) {
                        float acc = s * BitPacking.dot(vc, wo, vb, !asym, scores, j * capacity + sink + b * vGroup, vGroup);
                        if (asym) {
                            acc += z * pSum[j * maxValueGroups + b];
                        }
                        out[(h0 + j) * hd + c] += acc;
                    }
                }
            }
            // out: value window
            for (int t = Math.max(sink, vEnd); t < n; t++) {
                accumulate(out, h0, scores, t, ringV[layer], (kvh * ringSlots + (t - sink) % ringSlots) * hd);
            }
        }
    }

    private float dot(float[] q, int qo, float[] k, int ko) {
        float s = 0f;
        for (int c = 0; c < hd; c++) {
            s += q[qo + c] * k[ko + c];
        }
        return s;
    }

    /** out_h += p_h[t] * v for every query head h of the KV head starting at h0. */
    private void accumulate(float[] out, int h0, float[] p, int t, float[] v, int vo) {
        for (int j = 0; j < perKv; j++) {
            float pt = p[j * capacity + t];
            int oo = (h0 + j) * hd;
            for (int c = 0; c < hd; c++) {
                out[oo + c] += pt * v[vo + c];
            }
        }
    }

    @Override
    public int capacity() {
        return capacity;
    }

    /**
     * Bytes of what is stored now: while the prompt runs, its fp32 copy; then the sink and window tokens in fp32,
     * the codes and scales of the quantized groups, the zero points written, and the normalization factors.
     */
    @Override
    public long bytesInUse() {
        if (prefill != null) {
            return prefill.bytesInUse();
        }
        long bytes = 0;
        for (int l = 0; l < g.layers(); l++) {
            int n = length[l];
            long fp32Tokens = 2L * Math.min(n, sink);
            if (n > sink) {
                fp32Tokens += (n - keyEnd[l]) + (n - valueEnd[l]);
            }
            bytes += fp32Tokens * g.kvDim() * Float.BYTES;
            bytes += (long) kvHeads * (keyEnd[l] - sink) * kGroups * (kWords * 4L + 2);
            bytes += (long) kvHeads * hd * ((valueEnd[l] - sink) / vGroup) * (vWords * 4L + 2);
            bytes += 2 * (keyZeroCount[l] + valueZeroCount[l]);
            if (keysStarted[l] && config.keyNormalization()) {
                bytes += (long) g.kvDim() * Float.BYTES;
            }
        }
        return bytes;
    }

    /** Bytes allocated for storage (scratch excluded), including the prefill buffer while it exists. */
    long bytesReserved() {
        long bytes = prefill != null ? prefill.bytesReserved() : 0;
        for (int l = 0; l < g.layers(); l++) {
            bytes += 4L * (sinkK[l].length + sinkV[l].length + ringK[l].length + ringV[l].length + keyCodes[l].length
                    + valueCodes[l].length + keyFactors[l].length);
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

    /** Keys of positions [S, keyEnd) are quantized. */
    public int keyEnd(int layer) {
        return keyEnd[layer];
    }

    /** Values of positions [S, valueEnd) are quantized. */
    public int valueEnd(int layer) {
        return valueEnd[layer];
    }

    /** Whether the prompt still runs: everything is in {@link #prefillKeys}/{@link #prefillValues} until endPrefill. */
    public boolean prefilling() {
        return prefill != null;
    }

    public InnerqConfig config() {
        return config;
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
            throw new IllegalStateException("the prompt has ended: its keys and values are in the sink, window and quantized regions");
        }
        return prefill;
    }

    /** Token slots of the sink: {@code min(S, capacity)}. */
    public int sinkSlots() {
        return sinkSlots;
    }

    /** Token slots of the window ring: {@code min(R + G, capacity - S)}; position t is in slot {@code (t - S) % slots}. */
    public int windowSlots() {
        return ringSlots;
    }

    /** Quantized key token slots per KV head: {@code capacity - S - R}. */
    public int keyTokenSlots() {
        return maxKeyTokens;
    }

    /** Quantized value blocks per KV head and channel: {@code (capacity - S - R) / G}. */
    public int valueBlockSlots() {
        return maxValueGroups;
    }

    /** Sink keys: fp32 {@code [kvHead][t][channel]}, t < {@link #sinkSlots()}. */
    public float[] sinkKeys(int layer) {
        return sinkK[layer];
    }

    /** Sink values: fp32 {@code [kvHead][t][channel]}. */
    public float[] sinkValues(int layer) {
        return sinkV[layer];
    }

    /** Window keys: fp32 {@code [kvHead][slot][channel]}, slot = {@code (t - S) % windowSlots()}. */
    public float[] windowKeys(int layer) {
        return ringK[layer];
    }

    /** Window values: fp32 {@code [kvHead][slot][channel]}. */
    public float[] windowValues(int layer) {
        return ringV[layer];
    }

    /** K codes: kb-bit {@code [kvHead][t - S][keyGroup]}, {@code BitPacking.words(kb, Gk)} words per group. */
    public int[] keyCodes(int layer) {
        return keyCodes[layer];
    }

    /** K scales: fp16 {@code [kvHead][t - S][keyGroup]}, sign bit set = asymmetric group. */
    public short[] keyScales(int layer) {
        return keyScales[layer];
    }

    /** K zero points: fp16 {@code [kvHead][t - S][rank among the token's asymmetric groups]}; empty for symmetric keys. */
    public short[] keyZeros(int layer) {
        return keyZeros[layer];
    }

    /** V codes: vb-bit {@code [kvHead][channel][tokenGroup]}, {@code BitPacking.words(vb, G)} words per group. */
    public int[] valueCodes(int layer) {
        return valueCodes[layer];
    }

    /** V scales: fp16 {@code [kvHead][channel][tokenGroup]}, sign bit set = asymmetric group. */
    public short[] valueScales(int layer) {
        return valueScales[layer];
    }

    /** V zero points: fp16 {@code [kvHead][tokenGroup][rank among the block's asymmetric channels]}; empty if symmetric. */
    public short[] valueZeros(int layer) {
        return valueZeros[layer];
    }

    /** Key normalization f: fp32 {@code [kvHead][channel]}, 1 until computed; empty when normalization is off. */
    public float[] keyFactors(int layer) {
        return keyFactors[layer];
    }

    // Introspection for tests.

    /** The stored fp16 scale of a value group (sign bit set = asymmetric). */
    short valueScale(int layer, int kvHead, int channel, int tokenGroup) {
        return valueScales[layer][(kvHead * hd + channel) * maxValueGroups + tokenGroup];
    }

    /** Key zero points written in a layer. */
    long keyZeroPoints(int layer) {
        return keyZeroCount[layer];
    }

    /** Value zero points written in a layer. */
    long valueZeroPoints(int layer) {
        return valueZeroCount[layer];
    }

    /** The normalization factor of a channel (1 until computed or without normalization). */
    float keyFactor(int layer, int kvHead, int channel) {
        return config.keyNormalization() ? keyFactors[layer][kvHead * hd + channel] : 1f;
    }

    @Override
    public void close() {
        prefill = null;
    }
}
