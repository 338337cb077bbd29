package io.innerq.cpu;

import io.innerq.cache.KiviKvCache;
import io.innerq.cache.KvMode;
import io.innerq.cache.Positions;
import io.innerq.port.out.KvCache;
import io.innerq.port.out.KvCachePort.CacheGeometry;
import io.innerq.quant.BitPacking;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;

import java.util.Arrays;

import static io.innerq.cpu.Lanes.F;
import static io.innerq.cpu.Lanes.L;

/**
 * KIVI ({@link KiviKvCache}'s storage and flushing) with vectorized attention. Its groups run along the output
 * dimension, so every element is dequantized, {@code x = s * c + z}, before its multiply-add; the kernels do that
 * once per element for all the query heads of a KV head, in lanes:
 * <ul>
 *   <li>keys, a group = 32 tokens of one channel: lanes are tokens. Per channel, the group's 32 codes become four
 *       lane groups of dequantized keys, each multiplied by the broadcast {@code q[c]} of every head of the block
 *       and accumulated: the accumulators end as 32 tokens' scores, no horizontal sums.</li>
 *   <li>values, a group = Gv channels of one token: lanes are channels. Per token, its codes become dequantized
 *       values, multiplied by the broadcast {@code p[t]} of every head and accumulated into the output, over tiles
 *       of {@link #TILE} tokens with the output's lanes in registers.</li>
 * </ul>
 * The fp32 residuals and the running prompt go through the fp32 kernels.
 */
final class VectorKiviKvCache implements KvCache {

    private static final int TILE = 64;

    private final KiviKvCache storage;
    private final CacheGeometry g;
    private final int capacity;
    private final int hd;
    private final int perKv;
    private final int bits;
    private final int kGroup;      // G: tokens per key group (32)
    private final int kWords;      // words per key group
    private final int vGroup;      // Gv: channels per value group
    private final int vGroups;     // value groups per head
    private final int vWords;      // words per value group
    private final int keySlots;    // key residual ring slots
    private final int valueSlots;  // value residual ring slots
    private final int keyGroupSlots;   // token groups of quantized keys per KV head
    private final int valueTokenSlots; // quantized value tokens per KV head

    private final float[] scores;  // [heads][capacity] scores, then exp(score - max)
    private final float[] sums;    // [heads] sum of exp(score - max)
    private final Fp32Attention prompt;
    private final AttendThreads threads;
    private final CpuWorkers.Task head = this::attendHead; // task i: KV head i

    // The call in flight, read by the tasks.
    private int layer;
    private int n;
    private float[] q;
    private float[] out;

    VectorKiviKvCache(CacheGeometry geometry, int capacity, KvMode.Kivi mode, AttendThreads threads) {
        storage = new KiviKvCache(geometry, capacity, mode);
        g = geometry;
        this.capacity = capacity;
        hd = geometry.headDim();
        perKv = geometry.groupSize();
        bits = mode.bits();
        kGroup = KvMode.Kivi.GROUP;
        kWords = BitPacking.words(bits, kGroup);
        vGroup = KvMode.Kivi.valueGroup(hd);
        vGroups = hd / vGroup;
        vWords = BitPacking.words(bits, vGroup);
        keySlots = storage.residualKeySlots();
        valueSlots = storage.residualValueSlots();
        keyGroupSlots = storage.keyGroupSlots();
        valueTokenSlots = storage.valueTokenSlots();
        scores = Fp32Attention.scratch(geometry, capacity);
        sums = new float[geometry.heads()];
        prompt = new Fp32Attention(geometry, capacity, scores, sums, threads);
        this.threads = threads;
    }

    @Override
    public void store(int layer, int position, float[] k, float[] v) {
        storage.store(layer, position, k, v);
    }

    @Override
    public void endPrefill(int promptLength) {
        storage.endPrefill(promptLength);
    }

    @Override
    public void attend(int layer, int position, float[] q, float[] out) {
        Positions.checkNewest(layer, position, storage.length(layer));
        int n = position + 1;
        if (storage.prefilling()) {
            prompt.attend(storage.prefillKeys(layer), storage.prefillValues(layer), n, q, out);
            return;
        }
        this.layer = layer;
        this.n = n;
        this.q = q;
        this.out = out;
        try {
            threads.run(g.kvHeads(), (long) n * g.kvDim(), head);
        } finally {
            this.q = this.out = null;
        }
    }

    /** Attention of the query heads of KV head kvh: scores, softmax, values, each head divided by its sum. */
    private void attendHead(int kvh) {
        int layer = this.layer;
        int n = this.n;
        float[] q = this.q;
        float[] out = this.out;
        int kEnd = storage.keyEnd(layer);
        int vEnd = storage.valueEnd(layer);
        float scale = Fp32Attention.scoreScale(hd);
        float[] ringK = storage.residualKeys(layer);
        float[] ringV = storage.residualValues(layer);
        Arrays.fill(out, kvh * perKv * hd, (kvh + 1) * perKv * hd, 0f);
        for (int j0 = 0; j0 < perKv; j0 += DenseKernels.BLOCK) {
            int h0 = kvh * perKv + j0;
            int nb = Math.min(DenseKernels.BLOCK, perKv - j0);
            switch (nb) { // blocks of one and two heads: kernels that repeat no head
                case 1 -> keyScoresx1(layer, kvh, kEnd / kGroup, q, h0, nb, scale);
                case 2 -> keyScoresx2(layer, kvh, kEnd / kGroup, q, h0, nb, scale);
                default -> keyScores(layer, kvh, kEnd / kGroup, q, h0, nb, scale);
            }
            for (int t = kEnd; t < n; ) { // residual keys: contiguous runs of ring slots
                int slot = t % keySlots;
                int run = Math.min(n - t, keySlots - slot);
                DenseKernels.scores(ringK, (kvh * keySlots + slot) * hd, hd, run, hd, q, h0 * hd, hd,
                        scores, h0 * capacity + t, capacity, nb, scale);
                t += run;
            }
        }
        for (int h = kvh * perKv; h < (kvh + 1) * perKv; h++) {
            sums[h] = Softmax.exponentiate(scores, h * capacity, n);
        }
        for (int j0 = 0; j0 < perKv; j0 += DenseKernels.BLOCK) {
            int h0 = kvh * perKv + j0;
            int nb = Math.min(DenseKernels.BLOCK, perKv - j0);
            switch (nb) {
                case 1 -> valuesx1(layer, kvh, vEnd, out, h0, nb);
                case 2 -> valuesx2(layer, kvh, vEnd, out, h0, nb);
                default -> values(layer, kvh, vEnd, out, h0, nb);
            }
            for (int t = vEnd; t < n; ) {
                int slot = t % valueSlots;
                int run = Math.min(n - t, valueSlots - slot);
                DenseKernels.values(ringV, (kvh * valueSlots + slot) * hd, hd, run, hd,
                        scores, h0 * capacity + t, capacity, out, h0 * hd, hd, nb);
                t += run;
            }
        }
        for (int h = kvh * perKv; h < (kvh + 1) * perKv; h++) {
            DenseKernels.scale(out, h * hd, hd, 1f / sums[h]);
        }
    }

    /**
     * Scores of the quantized keys, token groups {@code [0, groups)}, for query heads {@code h0 .. h0 + nb - 1}:
     * per token group and half (16 tokens, two lane groups), {@code sum_c q[c] * (s_c * codes_c + z_c)}.
     */
    private void keyScores(int layer, int kvh, int groups, float[] q, int h0, int nb, float scale) {
        int[] codes = storage.keyCodes(layer);
        short[] scales = storage.keyScales(layer);
        short[] zeros = storage.keyZeros(layer);
        int q0 = h0 * hd;
        int q1 = DenseKernels.row(q0, hd, 1, nb);
        int q2 = DenseKernels.row(q0, hd, 2, nb);
        int q3 = DenseKernels.row(q0, hd, 3, nb);
        int s0 = h0 * capacity;
        int s1 = DenseKernels.row(s0, capacity, 1, nb);
        int s2 = DenseKernels.row(s0, capacity, 2, nb);
        int s3 = DenseKernels.row(s0, capacity, 3, nb);
        IntVector shifts = Lanes.shifts(bits);
        for (int tg = 0; tg < groups; tg++) {
            int groupBase = (kvh * keyGroupSlots + tg) * hd;
            for (int k = 0; k < kGroup / L; k += 2) { // lane groups k, k + 1: tokens tg*G + 8k .. + 16
                FloatVector a0 = FloatVector.zero(F);
                FloatVector a1 = FloatVector.zero(F);
                FloatVector a2 = FloatVector.zero(F);
                FloatVector a3 = FloatVector.zero(F);
                FloatVector b0 = FloatVector.zero(F);
                FloatVector b1 = FloatVector.zero(F);
                FloatVector b2 = FloatVector.zero(F);
                FloatVector b3 = FloatVector.zero(F);
                for (int c = 0; c < hd; c++) {
                    int group = groupBase + c;
                    FloatVector s = FloatVector.broadcast(F, Float.float16ToFloat((short) (scales[group] & 0x7FFF)));
                    FloatVector z = FloatVector.broadcast(F, Float.float16ToFloat(zeros[group]));
                    FloatVector x = codes(codes, group * kWords, k, shifts).fma(s, z);
                    FloatVector y = codes(codes, group * kWords, k + 1, shifts).fma(s, z);
                    FloatVector w = FloatVector.broadcast(F, q[q0 + c]);
                    a0 = x.fma(w, a0);
                    b0 = y.fma(w, b0);
                    w = FloatVector.broadcast(F, q[q1 + c]);
                    a1 = x.fma(w, a1);
                    b1 = y.fma(w, b1);
                    w = FloatVector.broadcast(F, q[q2 + c]);
                    a2 = x.fma(w, a2);
                    b2 = y.fma(w, b2);
                    w = FloatVector.broadcast(F, q[q3 + c]);
                    a3 = x.fma(w, a3);
                    b3 = y.fma(w, b3);
                }
                int t = tg * kGroup + k * L;
                a0 = a0.mul(scale);
                a1 = a1.mul(scale);
                a2 = a2.mul(scale);
                a3 = a3.mul(scale);
                b0 = b0.mul(scale);
                b1 = b1.mul(scale);
                b2 = b2.mul(scale);
                b3 = b3.mul(scale);
                a0.intoArray(scores, s0 + t);
                a1.intoArray(scores, s1 + t);
                a2.intoArray(scores, s2 + t);
                a3.intoArray(scores, s3 + t);
                b0.intoArray(scores, s0 + t + L);
                b1.intoArray(scores, s1 + t + L);
                b2.intoArray(scores, s2 + t + L);
                b3.intoArray(scores, s3 + t + L);
            }
        }
    }

    /** {@link #keyScores} for a block of two query heads (no repeated head): GQA groups of 2. */
    private void keyScoresx2(int layer, int kvh, int groups, float[] q, int h0, int nb, float scale) {
        int[] codes = storage.keyCodes(layer);
        short[] scales = storage.keyScales(layer);
        short[] zeros = storage.keyZeros(layer);
        int q0 = h0 * hd;
        int q1 = DenseKernels.row(q0, hd, 1, nb);
        int s0 = h0 * capacity;
        int s1 = DenseKernels.row(s0, capacity, 1, nb);
        IntVector shifts = Lanes.shifts(bits);
        for (int tg = 0; tg < groups; tg++) {
            int groupBase = (kvh * keyGroupSlots + tg) * hd;
            for (int k = 0; k < kGroup / L; k += 2) { // lane groups k, k + 1: tokens tg*G + 8k .. + 16
                FloatVector a0 = FloatVector.zero(F);
                FloatVector a1 = FloatVector.zero(F);
                FloatVector b0 = FloatVector.zero(F);
                FloatVector b1 = FloatVector.zero(F);
                for (int c = 0; c < hd; c++) {
                    int group = groupBase + c;
                    FloatVector s = FloatVector.broadcast(F, Float.float16ToFloat((short) (scales[group] & 0x7FFF)));
                    FloatVector z = FloatVector.broadcast(F, Float.float16ToFloat(zeros[group]));
                    FloatVector x = codes(codes, group * kWords, k, shifts).fma(s, z);
                    FloatVector y = codes(codes, group * kWords, k + 1, shifts).fma(s, z);
                    FloatVector w = FloatVector.broadcast(F, q[q0 + c]);
                    a0 = x.fma(w, a0);
                    b0 = y.fma(w, b0);
                    w = FloatVector.broadcast(F, q[q1 + c]);
                    a1 = x.fma(w, a1);
                    b1 = y.fma(w, b1);
                }
                int t = tg * kGroup + k * L;
                a0 = a0.mul(scale);
                a1 = a1.mul(scale);
                b0 = b0.mul(scale);
                b1 = b1.mul(scale);
                a0.intoArray(scores, s0 + t);
                a1.intoArray(scores, s1 + t);
                b0.intoArray(scores, s0 + t + L);
                b1.intoArray(scores, s1 + t + L);
            }
        }
    }

    /** {@link #keyScores} for a block of one query head (no repeated head): GQA groups of 1 and MHA. */
    private void keyScoresx1(int layer, int kvh, int groups, float[] q, int h0, int nb, float scale) {
        int[] codes = storage.keyCodes(layer);
        short[] scales = storage.keyScales(layer);
        short[] zeros = storage.keyZeros(layer);
        int q0 = h0 * hd;
        int s0 = h0 * capacity;
        IntVector shifts = Lanes.shifts(bits);
        for (int tg = 0; tg < groups; tg++) {
            int groupBase = (kvh * keyGroupSlots + tg) * hd;
            for (int k = 0; k < kGroup / L; k += 2) { // lane groups k, k + 1: tokens tg*G + 8k .. + 16
                FloatVector a0 = FloatVector.zero(F);
                FloatVector b0 = FloatVector.zero(F);
                for (int c = 0; c < hd; c++) {
                    int group = groupBase + c;
                    FloatVector s = FloatVector.broadcast(F, Float.float16ToFloat((short) (scales[group] & 0x7FFF)));
                    FloatVector z = FloatVector.broadcast(F, Float.float16ToFloat(zeros[group]));
                    FloatVector x = codes(codes, group * kWords, k, shifts).fma(s, z);
                    FloatVector y = codes(codes, group * kWords, k + 1, shifts).fma(s, z);
                    FloatVector w = FloatVector.broadcast(F, q[q0 + c]);
                    a0 = x.fma(w, a0);
                    b0 = y.fma(w, b0);
                }
                int t = tg * kGroup + k * L;
                a0 = a0.mul(scale);
                b0 = b0.mul(scale);
                a0.intoArray(scores, s0 + t);
                b0.intoArray(scores, s0 + t + L);
            }
        }
    }

    /**
     * {@code out_j += sum_t p_j[t] * (s * codes_t + z)} over the quantized values, tokens {@code [0, tokens)}, for
     * query heads {@code h0 .. h0 + nb - 1}.
     */
    private void values(int layer, int kvh, int tokens, float[] out, int h0, int nb) {
        int[] codes = storage.valueCodes(layer);
        short[] scales = storage.valueScales(layer);
        short[] zeros = storage.valueZeros(layer);
        int p0 = h0 * capacity;
        int p1 = DenseKernels.row(p0, capacity, 1, nb);
        int p2 = DenseKernels.row(p0, capacity, 2, nb);
        int p3 = DenseKernels.row(p0, capacity, 3, nb);
        int o0 = h0 * hd;
        int o1 = DenseKernels.row(o0, hd, 1, nb);
        int o2 = DenseKernels.row(o0, hd, 2, nb);
        int o3 = DenseKernels.row(o0, hd, 3, nb);
        int chunks = vGroup / L;
        IntVector shifts = Lanes.shifts(bits);
        for (int t0 = 0; t0 < tokens; t0 += TILE) {
            int t1 = Math.min(tokens, t0 + TILE);
            for (int vg = 0; vg < vGroups; vg++) {
                int k = 0;
                for (; k + 2 <= chunks; k += 2) { // lane groups k, k + 1 of the group: 16 channels x 4 heads
                    int c = vg * vGroup + k * L;
                    FloatVector a0 = FloatVector.fromArray(F, out, o0 + c);
                    FloatVector a1 = FloatVector.fromArray(F, out, o1 + c);
                    FloatVector a2 = FloatVector.fromArray(F, out, o2 + c);
                    FloatVector a3 = FloatVector.fromArray(F, out, o3 + c);
                    FloatVector b0 = FloatVector.fromArray(F, out, o0 + c + L);
                    FloatVector b1 = FloatVector.fromArray(F, out, o1 + c + L);
                    FloatVector b2 = FloatVector.fromArray(F, out, o2 + c + L);
                    FloatVector b3 = FloatVector.fromArray(F, out, o3 + c + L);
                    for (int t = t0; t < t1; t++) {
                        int group = (kvh * valueTokenSlots + t) * vGroups + vg;
                        FloatVector s = FloatVector.broadcast(F, Float.float16ToFloat((short) (scales[group] & 0x7FFF)));
                        FloatVector z = FloatVector.broadcast(F, Float.float16ToFloat(zeros[group]));
                        FloatVector x = codes(codes, group * vWords, k, shifts).fma(s, z);
                        FloatVector y = codes(codes, group * vWords, k + 1, shifts).fma(s, z);
                        FloatVector w = FloatVector.broadcast(F, scores[p0 + t]);
                        a0 = x.fma(w, a0);
                        b0 = y.fma(w, b0);
                        w = FloatVector.broadcast(F, scores[p1 + t]);
                        a1 = x.fma(w, a1);
                        b1 = y.fma(w, b1);
                        w = FloatVector.broadcast(F, scores[p2 + t]);
                        a2 = x.fma(w, a2);
                        b2 = y.fma(w, b2);
                        w = FloatVector.broadcast(F, scores[p3 + t]);
                        a3 = x.fma(w, a3);
                        b3 = y.fma(w, b3);
                    }
                    a0.intoArray(out, o0 + c);
                    a1.intoArray(out, o1 + c);
                    a2.intoArray(out, o2 + c);
                    a3.intoArray(out, o3 + c);
                    b0.intoArray(out, o0 + c + L);
                    b1.intoArray(out, o1 + c + L);
                    b2.intoArray(out, o2 + c + L);
                    b3.intoArray(out, o3 + c + L);
                }
                for (; k < chunks; k++) { // a single lane group (Gv = 8, 24, ...)
                    int c = vg * vGroup + k * L;
                    FloatVector a0 = FloatVector.fromArray(F, out, o0 + c);
                    FloatVector a1 = FloatVector.fromArray(F, out, o1 + c);
                    FloatVector a2 = FloatVector.fromArray(F, out, o2 + c);
                    FloatVector a3 = FloatVector.fromArray(F, out, o3 + c);
                    for (int t = t0; t < t1; t++) {
                        int group = (kvh * valueTokenSlots + t) * vGroups + vg;
                        FloatVector s = FloatVector.broadcast(F, Float.float16ToFloat((short) (scales[group] & 0x7FFF)));
                        FloatVector z = FloatVector.broadcast(F, Float.float16ToFloat(zeros[group]));
                        FloatVector x = codes(codes, group * vWords, k, shifts).fma(s, z);
                        a0 = x.fma(FloatVector.broadcast(F, scores[p0 + t]), a0);
                        a1 = x.fma(FloatVector.broadcast(F, scores[p1 + t]), a1);
                        a2 = x.fma(FloatVector.broadcast(F, scores[p2 + t]), a2);
                        a3 = x.fma(FloatVector.broadcast(F, scores[p3 + t]), a3);
                    }
                    a0.intoArray(out, o0 + c);
                    a1.intoArray(out, o1 + c);
                    a2.intoArray(out, o2 + c);
                    a3.intoArray(out, o3 + c);
                }
                for (int i = chunks * L; i < vGroup; i++) { // channels past the last lane group (head_dim % 8)
                    int c = vg * vGroup + i;
                    float r0 = out[o0 + c];
                    float r1 = out[o1 + c];
                    float r2 = out[o2 + c];
                    float r3 = out[o3 + c];
                    for (int t = t0; t < t1; t++) {
                        int group = (kvh * valueTokenSlots + t) * vGroups + vg;
                        float s = Float.float16ToFloat((short) (scales[group] & 0x7FFF));
                        float x = s * BitPacking.unsigned(codes, group * vWords, bits, i) + Float.float16ToFloat(zeros[group]);
                        r0 += scores[p0 + t] * x;
                        r1 += scores[p1 + t] * x;
                        r2 += scores[p2 + t] * x;
                        r3 += scores[p3 + t] * x;
                    }
                    out[o0 + c] = r0;
                    out[o1 + c] = r1;
                    out[o2 + c] = r2;
                    out[o3 + c] = r3;
                }
            }
        }
    }

    /** {@link #values} for a block of two query heads (no repeated head): GQA groups of 2. */
    private void valuesx2(int layer, int kvh, int tokens, float[] out, int h0, int nb) {
        int[] codes = storage.valueCodes(layer);
        short[] scales = storage.valueScales(layer);
        short[] zeros = storage.valueZeros(layer);
        int p0 = h0 * capacity;
        int p1 = DenseKernels.row(p0, capacity, 1, nb);
        int o0 = h0 * hd;
        int o1 = DenseKernels.row(o0, hd, 1, nb);
        int chunks = vGroup / L;
        IntVector shifts = Lanes.shifts(bits);
        for (int t0 = 0; t0 < tokens; t0 += TILE) {
            int t1 = Math.min(tokens, t0 + TILE);
            for (int vg = 0; vg < vGroups; vg++) {
                int k = 0;
                for (; k + 2 <= chunks; k += 2) { // lane groups k, k + 1 of the group: 16 channels x 4 heads
                    int c = vg * vGroup + k * L;
                    FloatVector a0 = FloatVector.fromArray(F, out, o0 + c);
                    FloatVector a1 = FloatVector.fromArray(F, out, o1 + c);
                    FloatVector b0 = FloatVector.fromArray(F, out, o0 + c + L);
                    FloatVector b1 = FloatVector.fromArray(F, out, o1 + c + L);
                    for (int t = t0; t < t1; t++) {
                        int group = (kvh * valueTokenSlots + t) * vGroups + vg;
                        FloatVector s = FloatVector.broadcast(F, Float.float16ToFloat((short) (scales[group] & 0x7FFF)));
                        FloatVector z = FloatVector.broadcast(F, Float.float16ToFloat(zeros[group]));
                        FloatVector x = codes(codes, group * vWords, k, shifts).fma(s, z);
                        FloatVector y = codes(codes, group * vWords, k + 1, shifts).fma(s, z);
                        FloatVector w = FloatVector.broadcast(F, scores[p0 + t]);
                        a0 = x.fma(w, a0);
                        b0 = y.fma(w, b0);
                        w = FloatVector.broadcast(F, scores[p1 + t]);
                        a1 = x.fma(w, a1);
                        b1 = y.fma(w, b1);
                    }
                    a0.intoArray(out, o0 + c);
                    a1.intoArray(out, o1 + c);
                    b0.intoArray(out, o0 + c + L);
                    b1.intoArray(out, o1 + c + L);
                }
                for (; k < chunks; k++) { // a single lane group (Gv = 8, 24, ...)
                    int c = vg * vGroup + k * L;
                    FloatVector a0 = FloatVector.fromArray(F, out, o0 + c);
                    FloatVector a1 = FloatVector.fromArray(F, out, o1 + c);
                    for (int t = t0; t < t1; t++) {
                        int group = (kvh * valueTokenSlots + t) * vGroups + vg;
                        FloatVector s = FloatVector.broadcast(F, Float.float16ToFloat((short) (scales[group] & 0x7FFF)));
                        FloatVector z = FloatVector.broadcast(F, Float.float16ToFloat(zeros[group]));
                        FloatVector x = codes(codes, group * vWords, k, shifts).fma(s, z);
                        a0 = x.fma(FloatVector.broadcast(F, scores[p0 + t]), a0);
                        a1 = x.fma(FloatVector.broadcast(F, scores[p1 + t]), a1);
                    }
                    a0.intoArray(out, o0 + c);
                    a1.intoArray(out, o1 + c);
                }
                for (int i = chunks * L; i < vGroup; i++) { // channels past the last lane group (head_dim % 8)
                    int c = vg * vGroup + i;
                    float r0 = out[o0 + c];
                    float r1 = out[o1 + c];
                    for (int t = t0; t < t1; t++) {
                        int group = (kvh * valueTokenSlots + t) * vGroups + vg;
                        float s = Float.float16ToFloat((short) (scales[group] & 0x7FFF));
                        float x = s * BitPacking.unsigned(codes, group * vWords, bits, i) + Float.float16ToFloat(zeros[group]);
                        r0 += scores[p0 + t] * x;
                        r1 += scores[p1 + t] * x;
                    }
                    out[o0 + c] = r0;
                    out[o1 + c] = r1;
                }
            }
        }
    }

    /** {@link #values} for a block of one query head (no repeated head): GQA groups of 1 and MHA. */
    private void valuesx1(int layer, int kvh, int tokens, float[] out, int h0, int nb) {
        int[] codes = storage.valueCodes(layer);
        short[] scales = storage.valueScales(layer);
        short[] zeros = storage.valueZeros(layer);
        int p0 = h0 * capacity;
        int o0 = h0 * hd;
        int chunks = vGroup / L;
        IntVector shifts = Lanes.shifts(bits);
        for (int t0 = 0; t0 < tokens; t0 += TILE) {
            int t1 = Math.min(tokens, t0 + TILE);
            for (int vg = 0; vg < vGroups; vg++) {
                int k = 0;
                for (; k + 2 <= chunks; k += 2) { // lane groups k, k + 1 of the group: 16 channels x 4 heads
                    int c = vg * vGroup + k * L;
                    FloatVector a0 = FloatVector.fromArray(F, out, o0 + c);
                    FloatVector b0 = FloatVector.fromArray(F, out, o0 + c + L);
                    for (int t = t0; t < t1; t++) {
                        int group = (kvh * valueTokenSlots + t) * vGroups + vg;
                        FloatVector s = FloatVector.broadcast(F, Float.float16ToFloat((short) (scales[group] & 0x7FFF)));
                        FloatVector z = FloatVector.broadcast(F, Float.float16ToFloat(zeros[group]));
                        FloatVector x = codes(codes, group * vWords, k, shifts).fma(s, z);
                        FloatVector y = codes(codes, group * vWords, k + 1, shifts).fma(s, z);
                        FloatVector w = FloatVector.broadcast(F, scores[p0 + t]);
                        a0 = x.fma(w, a0);
                        b0 = y.fma(w, b0);
                    }
                    a0.intoArray(out, o0 + c);
                    b0.intoArray(out, o0 + c + L);
                }
                for (; k < chunks; k++) { // a single lane group (Gv = 8, 24, ...)
                    int c = vg * vGroup + k * L;
                    FloatVector a0 = FloatVector.fromArray(F, out, o0 + c);
                    for (int t = t0; t < t1; t++) {
                        int group = (kvh * valueTokenSlots + t) * vGroups + vg;
                        FloatVector s = FloatVector.broadcast(F, Float.float16ToFloat((short) (scales[group] & 0x7FFF)));
                        FloatVector z = FloatVector.broadcast(F, Float.float16ToFloat(zeros[group]));
                        FloatVector x = codes(codes, group * vWords, k, shifts).fma(s, z);
                        a0 = x.fma(FloatVector.broadcast(F, scores[p0 + t]), a0);
                    }
                    a0.intoArray(out, o0 + c);
                }
                for (int i = chunks * L; i < vGroup; i++) { // channels past the last lane group (head_dim % 8)
                    int c = vg * vGroup + i;
                    float r0 = out[o0 + c];
                    for (int t = t0; t < t1; t++) {
                        int group = (kvh * valueTokenSlots + t) * vGroups + vg;
                        float s = Float.float16ToFloat((short) (scales[group] & 0x7FFF));
                        float x = s * BitPacking.unsigned(codes, group * vWords, bits, i) + Float.float16ToFloat(zeros[group]);
                        r0 += scores[p0 + t] * x;
                    }
                    out[o0 + c] = r0;
                }
            }
        }
    }

    /** Codes 8k..8k+7 of the group at {@code words[wo]}, unsigned, as floats. */
    private FloatVector codes(int[] words, int wo, int k, IntVector shifts) {
        return bits == 8 ? Lanes.unsignedBytes(words, wo, k) : Lanes.unsigned(words, wo, bits, k, shifts);
    }

    @Override
    public int capacity() {
        return capacity;
    }

    @Override
    public long bytesInUse() {
        return storage.bytesInUse();
    }

    @Override
    public void close() {
        storage.close();
    }
}
