package io.innerq.cpu;

import io.innerq.cache.InnerqConfig;
import io.innerq.cache.InnerqKvCache;
import io.innerq.cache.Positions;
import io.innerq.port.out.KvCache;
import io.innerq.port.out.KvCachePort.CacheGeometry;
import io.innerq.quant.BitPacking;
import io.innerq.quant.QuantMode;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;

import java.util.Arrays;

import static io.innerq.cpu.Lanes.F;
import static io.innerq.cpu.Lanes.L;

/**
 * InnerQ ({@link InnerqKvCache}'s storage, windows and flushing) with attention computed from the packed codes. The
 * groups run along each reduction, so a group's codes meet the other operand as integers and its scale comes once:
 * <ul>
 *   <li>keys, a group = Gk channels of one token: {@code score_j += s * sum_i (q_j * f)_i c_i} (+ {@code z * sum_i
 *       (q_j * f)_i} for an asymmetric group), lanes = channels. q is multiplied by the key normalization f once
 *       per step. Per token, the group's codes are unpacked once for a block of up to four query heads of the KV
 *       head (all of them in Llama-3's GQA groups of four; blocks of one and two heads have kernels of their own, so
 *       that groups of 1 and 2 repeat no head), each head keeps a lane-wise partial per group, and the
 *       scale multiplies that partial once; one horizontal sum per token and head ends it.</li>
 *   <li>values, stored transposed, a group = G tokens of one channel: {@code out_j[c] += s * sum_i p_j[i] c_i}
 *       (+ {@code z * sum_i p_j[i]}, the hybrid flag in the scale's sign bit), lanes = tokens. Channels sweep tiles
 *       of {@link #BLOCKS_PER_TILE} blocks, so that the tile's probabilities stay in L1.</li>
 * </ul>
 * Groups of 32 codes of 2 to 4 bits (the presets) take unrolled kernels; other group sizes and 8-bit codes a general
 * one, with a scalar tail for group sizes that are not a multiple of 8. Asymmetric codes are read as {@code u -
 * 2^(b-1)} ({@link Lanes}), the difference going into the zero term. The sink, the windows and the running prompt
 * go through the fp32 kernels.
 */
final class VectorInnerqKvCache implements KvCache {

    /** Value blocks per tile: {@code 4 heads x 32 blocks x 32 tokens} of probabilities, 16 KiB. */
    private static final int BLOCKS_PER_TILE = 32;

    private final InnerqKvCache storage;
    private final CacheGeometry g;
    private final int capacity;
    private final int hd;              // head_dim
    private final int perKv;           // query heads per KV head
    private final int sink;            // S
    private final int vGroup;          // G: tokens per value group
    private final int kGroup;          // Gk: channels per key group
    private final int kGroups;         // key groups per head
    private final int kBits;
    private final int vBits;
    private final int kWords;          // words per key group
    private final int vWords;          // words per value group
    private final int sinkSlots;
    private final int windowSlots;
    private final int keyTokenSlots;   // quantized key tokens per KV head
    private final int valueBlockSlots; // quantized value blocks per KV head and channel
    private final boolean normalized;
    private final boolean keysSymmetric;
    private final boolean valuesSymmetric;

    private final float[] scores;   // [heads][capacity] scores, then exp(score - max)
    private final float[] sums;     // [heads] sum of exp(score - max)
    private final float[] qf;       // [heads][hd] q * f (each KV head's query heads, its own f)
    private final float[] qSum;     // [heads][kGroups] sum of q * f over each key group (asymmetric key groups)
    private final float[] pSum;     // [heads][valueBlockSlots] sum of exp scores over each value block (asymmetric)
    private final int[] zeroCursor; // [kvHeads][valueBlockSlots] next value zero point of each block, in channel order
    private final Fp32Attention prompt;
    private final AttendThreads threads;
    private final CpuWorkers.Task head = this::attendHead; // task i: KV head i

    // The call in flight, read by the tasks.
    private int layer;
    private int n;
    private float[] q;
    private float[] out;

    VectorInnerqKvCache(CacheGeometry geometry, int capacity, InnerqConfig config, AttendThreads threads) {
        storage = new InnerqKvCache(geometry, capacity, config);
        g = geometry;
        this.capacity = capacity;
        hd = geometry.headDim();
        perKv = geometry.groupSize();
        sink = config.sink();
        vGroup = config.groupSize();
        kGroup = config.keyGroupSize(hd);
        kGroups = hd / kGroup;
        kBits = config.keyBits();
        vBits = config.valueBits();
        kWords = BitPacking.words(kBits, kGroup);
        vWords = BitPacking.words(vBits, vGroup);
        sinkSlots = storage.sinkSlots();
        windowSlots = storage.windowSlots();
        keyTokenSlots = storage.keyTokenSlots();
        valueBlockSlots = storage.valueBlockSlots();
        normalized = config.keyNormalization();
        keysSymmetric = config.keyMode() == QuantMode.SYMMETRIC;
        valuesSymmetric = config.valueMode() == QuantMode.SYMMETRIC;
        scores = Fp32Attention.scratch(geometry, capacity);
        sums = new float[geometry.heads()];
        qf = new float[geometry.heads() * hd];
        qSum = new float[geometry.heads() * kGroups];
        pSum = new float[geometry.heads() * valueBlockSlots];
        zeroCursor = new int[geometry.kvHeads() * valueBlockSlots];
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
        int sinkEnd = Math.min(n, sink);
        int kEnd = Math.min(n, storage.keyEnd(layer));
        int vEnd = Math.min(n, storage.valueEnd(layer));
        int vBlocks = (vEnd - sinkEnd) / vGroup;
        float scale = Fp32Attention.scoreScale(hd);
        float[] sinkK = storage.sinkKeys(layer);
        float[] sinkV = storage.sinkValues(layer);
        float[] windowK = storage.windowKeys(layer);
        float[] windowV = storage.windowValues(layer);
        Arrays.fill(out, kvh * perKv * hd, (kvh + 1) * perKv * hd, 0f);
        foldNormalization(q, kvh, storage.keyFactors(layer));
        for (int j0 = 0; j0 < perKv; j0 += DenseKernels.BLOCK) {
            int h0 = kvh * perKv + j0;
            int nb = Math.min(DenseKernels.BLOCK, perKv - j0);
            DenseKernels.scores(sinkK, kvh * sinkSlots * hd, hd, sinkEnd, hd, q, h0 * hd, hd,
                    scores, h0 * capacity, capacity, nb, scale);
            if (keysSymmetric && kGroup == 32 && kBits <= 4) {
                switch (nb) {
                    case 1 -> keyScores32x1(layer, kvh, kEnd, j0, nb, scale);
                    case 2 -> keyScores32x2(layer, kvh, kEnd, j0, nb, scale);
                    default -> keyScores32(layer, kvh, kEnd, j0, nb, scale);
                }
            } else {
                keyScores(layer, kvh, kEnd, j0, nb, scale);
            }
            for (int t = Math.max(sink, kEnd); t < n; ) { // key window: contiguous runs of ring slots
                int slot = (t - sink) % windowSlots;
                int run = Math.min(n - t, windowSlots - slot);
                DenseKernels.scores(windowK, (kvh * windowSlots + slot) * hd, hd, run, hd, q, h0 * hd, hd,
                        scores, h0 * capacity + t, capacity, nb, scale);
                t += run;
            }
        }
        for (int h = kvh * perKv; h < (kvh + 1) * perKv; h++) {
            sums[h] = Softmax.exponentiate(scores, h * capacity, n);
        }
        if (!valuesSymmetric) {
            blockSums(kvh, vBlocks);
        }
        for (int j0 = 0; j0 < perKv; j0 += DenseKernels.BLOCK) {
            int h0 = kvh * perKv + j0;
            int nb = Math.min(DenseKernels.BLOCK, perKv - j0);
            DenseKernels.values(sinkV, kvh * sinkSlots * hd, hd, sinkEnd, hd, scores, h0 * capacity, capacity,
                    out, h0 * hd, hd, nb);
            if (vGroup == 32 && vBits <= 4) {
                switch (nb) {
                    case 1 -> values32x1(layer, kvh, vBlocks, j0, nb, out);
                    case 2 -> values32x2(layer, kvh, vBlocks, j0, nb, out);
                    default -> values32(layer, kvh, vBlocks, j0, nb, out);
                }
            } else {
                values(layer, kvh, vBlocks, j0, nb, out);
            }
            for (int t = Math.max(sink, vEnd); t < n; ) {
                int slot = (t - sink) % windowSlots;
                int run = Math.min(n - t, windowSlots - slot);
                DenseKernels.values(windowV, (kvh * windowSlots + slot) * hd, hd, run, hd,
                        scores, h0 * capacity + t, capacity, out, h0 * hd, hd, nb);
                t += run;
            }
        }
        for (int h = kvh * perKv; h < (kvh + 1) * perKv; h++) {
            DenseKernels.scale(out, h * hd, hd, 1f / sums[h]);
        }
    }

    /** {@code qf_j = q_j * f} for the query heads of KV head kvh, and their sums per key group when keys can be asymmetric. */
    private void foldNormalization(float[] q, int kvh, float[] f) {
        int qo = kvh * perKv * hd;
        int vectorEnd = hd & -L;
        for (int j = 0; j < perKv; j++) {
            int jo = qo + j * hd; // this head's row of qf
            int mo = (kvh * perKv + j) * kGroups;
            if (normalized) {
                int c = 0;
                for (; c < vectorEnd; c += L) {
                    FloatVector.fromArray(F, q, jo + c).mul(FloatVector.fromArray(F, f, kvh * hd + c))
                            .intoArray(qf, jo + c);
                }
                for (; c < hd; c++) {
                    qf[jo + c] = q[jo + c] * f[kvh * hd + c];
                }
            } else {
                System.arraycopy(q, jo, qf, jo, hd);
            }
            if (!keysSymmetric) {
                for (int kg = 0; kg < kGroups; kg++) {
                    float s = 0f;
                    for (int c = kg * kGroup; c < (kg + 1) * kGroup; c++) {
                        s += qf[jo + c];
                    }
                    qSum[mo + kg] = s;
                }
            }
        }
    }

    /** {@code pSum_j[b]}: the sum of exp scores over value block b, for the query heads of KV head kvh. */
    private void blockSums(int kvh, int blocks) {
        int vectorEnd = vGroup & -L;
        for (int j = 0; j < perKv; j++) {
            int po = (kvh * perKv + j) * capacity + sink;
            for (int b = 0; b < blocks; b++) {
                int o = po + b * vGroup;
                FloatVector acc = FloatVector.zero(F);
                for (int i = 0; i < vectorEnd; i += L) {
                    acc = acc.add(FloatVector.fromArray(F, scores, o + i));
                }
                // Lanes.sum(acc), written out: a call that C2 leaves out of line boxes its vector
                FloatVector totalH = acc.add(acc.rearrange(Lanes.ROT4));
                FloatVector totalQ = totalH.add(totalH.rearrange(Lanes.SWAP2));
                FloatVector total = totalQ.add(totalQ.rearrange(Lanes.SWAP1)); // in lane 0
                float s = total.lane(0);
                for (int i = vectorEnd; i < vGroup; i++) {
                    s += scores[o + i];
                }
                pSum[(kvh * perKv + j) * valueBlockSlots + b] = s;
            }
        }
    }

    /**
     * Scores of the quantized keys {@code [S, kEnd)} for the block of query heads j0 .. j0 + nb - 1 of KV head kvh,
     * for symmetric groups of 32 channels: per group, four lane groups of codes times q * f, then the scale.
     */
    private void keyScores32(int layer, int kvh, int kEnd, int j0, int nb, float scale) {
        int[] codes = storage.keyCodes(layer);
        short[] scales = storage.keyScales(layer);
        int bits = kBits;
        int words = kWords;
        int groups = kGroups;
        int x0 = (kvh * perKv + j0) * hd;
        int x1 = DenseKernels.row(x0, hd, 1, nb);
        int x2 = DenseKernels.row(x0, hd, 2, nb);
        int x3 = DenseKernels.row(x0, hd, 3, nb);
        int s0 = (kvh * perKv + j0) * capacity;
        int s1 = DenseKernels.row(s0, capacity, 1, nb);
        int s2 = DenseKernels.row(s0, capacity, 2, nb);
        int s3 = DenseKernels.row(s0, capacity, 3, nb);
        IntVector shifts = Lanes.shifts(bits);
        for (int t = sink; t < kEnd; t++) {
            int groupBase = (kvh * keyTokenSlots + t - sink) * groups;
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = FloatVector.zero(F);
            FloatVector a2 = FloatVector.zero(F);
            FloatVector a3 = FloatVector.zero(F);
            for (int kg = 0; kg < groups; kg++) {
                int wo = (groupBase + kg) * words;
                int c = kg * 32;
                FloatVector k = Lanes.signed(codes, wo, bits, 0, shifts, 0);
                FloatVector p0 = k.mul(FloatVector.fromArray(F, qf, x0 + c));
                FloatVector p1 = k.mul(FloatVector.fromArray(F, qf, x1 + c));
                FloatVector p2 = k.mul(FloatVector.fromArray(F, qf, x2 + c));
                FloatVector p3 = k.mul(FloatVector.fromArray(F, qf, x3 + c));
                k = Lanes.signed(codes, wo, bits, 1, shifts, 0);
                p0 = k.fma(FloatVector.fromArray(F, qf, x0 + c + 8), p0);
                p1 = k.fma(FloatVector.fromArray(F, qf, x1 + c + 8), p1);
                p2 = k.fma(FloatVector.fromArray(F, qf, x2 + c + 8), p2);
                p3 = k.fma(FloatVector.fromArray(F, qf, x3 + c + 8), p3);
                k = Lanes.signed(codes, wo, bits, 2, shifts, 0);
                p0 = k.fma(FloatVector.fromArray(F, qf, x0 + c + 16), p0);
                p1 = k.fma(FloatVector.fromArray(F, qf, x1 + c + 16), p1);
                p2 = k.fma(FloatVector.fromArray(F, qf, x2 + c + 16), p2);
                p3 = k.fma(FloatVector.fromArray(F, qf, x3 + c + 16), p3);
                k = Lanes.signed(codes, wo, bits, 3, shifts, 0);
                p0 = k.fma(FloatVector.fromArray(F, qf, x0 + c + 24), p0);
                p1 = k.fma(FloatVector.fromArray(F, qf, x1 + c + 24), p1);
                p2 = k.fma(FloatVector.fromArray(F, qf, x2 + c + 24), p2);
                p3 = k.fma(FloatVector.fromArray(F, qf, x3 + c + 24), p3);
                FloatVector s = FloatVector.broadcast(F, Float.float16ToFloat(scales[groupBase + kg])); // sign clear
                a0 = p0.fma(s, a0);
                a1 = p1.fma(s, a1);
                a2 = p2.fma(s, a2);
                a3 = p3.fma(s, a3);
            }
            // Lanes.sums(a0, a1, a2, a3), written out: a call that C2 leaves out of line boxes its vectors
            FloatVector totalH = a0.blend(a1, Lanes.HIGH).add(a1.blend(a0, Lanes.HIGH).rearrange(Lanes.ROT4));
            FloatVector totalK = a2.blend(a3, Lanes.HIGH).add(a3.blend(a2, Lanes.HIGH).rearrange(Lanes.ROT4));
            FloatVector totalQ = totalH.blend(totalK, Lanes.ODD_PAIRS)
                    .add(totalK.blend(totalH, Lanes.ODD_PAIRS).rearrange(Lanes.SWAP2));
            FloatVector total = totalQ.add(totalQ.rearrange(Lanes.SWAP1)); // in lanes 0, 4, 2, 6
            float r0 = total.lane(0) * scale;
            float r1 = total.lane(4) * scale;
            float r2 = total.lane(2) * scale;
            float r3 = total.lane(6) * scale;
            scores[s0 + t] = r0;
            scores[s1 + t] = r1;
            scores[s2 + t] = r2;
            scores[s3 + t] = r3;
        }
    }

    /** {@link #keyScores32} for a block of two query heads (no repeated head): GQA groups of 2. */
    private void keyScores32x2(int layer, int kvh, int kEnd, int j0, int nb, float scale) {
        int[] codes = storage.keyCodes(layer);
        short[] scales = storage.keyScales(layer);
        int bits = kBits;
        int words = kWords;
        int groups = kGroups;
        int x0 = (kvh * perKv + j0) * hd;
        int x1 = DenseKernels.row(x0, hd, 1, nb);
        int s0 = (kvh * perKv + j0) * capacity;
        int s1 = DenseKernels.row(s0, capacity, 1, nb);
        IntVector shifts = Lanes.shifts(bits);
        for (int t = sink; t < kEnd; t++) {
            int groupBase = (kvh * keyTokenSlots + t - sink) * groups;
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = FloatVector.zero(F);
            for (int kg = 0; kg < groups; kg++) {
                int wo = (groupBase + kg) * words;
                int c = kg * 32;
                FloatVector k = Lanes.signed(codes, wo, bits, 0, shifts, 0);
                FloatVector p0 = k.mul(FloatVector.fromArray(F, qf, x0 + c));
                FloatVector p1 = k.mul(FloatVector.fromArray(F, qf, x1 + c));
                k = Lanes.signed(codes, wo, bits, 1, shifts, 0);
                p0 = k.fma(FloatVector.fromArray(F, qf, x0 + c + 8), p0);
                p1 = k.fma(FloatVector.fromArray(F, qf, x1 + c + 8), p1);
                k = Lanes.signed(codes, wo, bits, 2, shifts, 0);
                p0 = k.fma(FloatVector.fromArray(F, qf, x0 + c + 16), p0);
                p1 = k.fma(FloatVector.fromArray(F, qf, x1 + c + 16), p1);
                k = Lanes.signed(codes, wo, bits, 3, shifts, 0);
                p0 = k.fma(FloatVector.fromArray(F, qf, x0 + c + 24), p0);
                p1 = k.fma(FloatVector.fromArray(F, qf, x1 + c + 24), p1);
                FloatVector s = FloatVector.broadcast(F, Float.float16ToFloat(scales[groupBase + kg])); // sign clear
                a0 = p0.fma(s, a0);
                a1 = p1.fma(s, a1);
            }
            // Lanes.sums(a0, a1, a0, a1), written out: a call that C2 leaves out of line boxes its vectors
            FloatVector totalH = a0.blend(a1, Lanes.HIGH).add(a1.blend(a0, Lanes.HIGH).rearrange(Lanes.ROT4));
            FloatVector totalK = a0.blend(a1, Lanes.HIGH).add(a1.blend(a0, Lanes.HIGH).rearrange(Lanes.ROT4));
            FloatVector totalQ = totalH.blend(totalK, Lanes.ODD_PAIRS)
                    .add(totalK.blend(totalH, Lanes.ODD_PAIRS).rearrange(Lanes.SWAP2));
            FloatVector total = totalQ.add(totalQ.rearrange(Lanes.SWAP1)); // in lanes 0, 4, 2, 6
            float r0 = total.lane(0) * scale;
            float r1 = total.lane(4) * scale;
            scores[s0 + t] = r0;
            scores[s1 + t] = r1;
        }
    }

    /** {@link #keyScores32} for a block of one query head (no repeated head): GQA groups of 1 and MHA. */
    private void keyScores32x1(int layer, int kvh, int kEnd, int j0, int nb, float scale) {
        int[] codes = storage.keyCodes(layer);
        short[] scales = storage.keyScales(layer);
        int bits = kBits;
        int words = kWords;
        int groups = kGroups;
        int x0 = (kvh * perKv + j0) * hd;
        int s0 = (kvh * perKv + j0) * capacity;
        IntVector shifts = Lanes.shifts(bits);
        for (int t = sink; t < kEnd; t++) {
            int groupBase = (kvh * keyTokenSlots + t - sink) * groups;
            FloatVector a0 = FloatVector.zero(F);
            for (int kg = 0; kg < groups; kg++) {
                int wo = (groupBase + kg) * words;
                int c = kg * 32;
                FloatVector k = Lanes.signed(codes, wo, bits, 0, shifts, 0);
                FloatVector p0 = k.mul(FloatVector.fromArray(F, qf, x0 + c));
                k = Lanes.signed(codes, wo, bits, 1, shifts, 0);
                p0 = k.fma(FloatVector.fromArray(F, qf, x0 + c + 8), p0);
                k = Lanes.signed(codes, wo, bits, 2, shifts, 0);
                p0 = k.fma(FloatVector.fromArray(F, qf, x0 + c + 16), p0);
                k = Lanes.signed(codes, wo, bits, 3, shifts, 0);
                p0 = k.fma(FloatVector.fromArray(F, qf, x0 + c + 24), p0);
                FloatVector s = FloatVector.broadcast(F, Float.float16ToFloat(scales[groupBase + kg])); // sign clear
                a0 = p0.fma(s, a0);
            }
            // Lanes.sum(a0), written out: a call that C2 leaves out of line boxes its vector
            FloatVector totalH = a0.add(a0.rearrange(Lanes.ROT4));
            FloatVector totalQ = totalH.add(totalH.rearrange(Lanes.SWAP2));
            FloatVector total = totalQ.add(totalQ.rearrange(Lanes.SWAP1)); // in lane 0
            float r0 = total.lane(0) * scale;
            scores[s0 + t] = r0;
        }
    }

    /**
     * Scores of the quantized keys {@code [S, kEnd)}, any group size and quantization mode: lane groups of codes
     * (an asymmetric group's codes read as {@code u - 2^(b-1)}, see {@link Lanes}), a scalar tail for group sizes
     * that are not a multiple of 8, and {@code (z + s * 2^(b-1)) * sum(q * f)} for asymmetric groups.
     */
    private void keyScores(int layer, int kvh, int kEnd, int j0, int nb, float scale) {
        int[] codes = storage.keyCodes(layer);
        short[] scales = storage.keyScales(layer);
        short[] zeros = storage.keyZeros(layer);
        int bits = kBits;
        int x0 = (kvh * perKv + j0) * hd;
        int x1 = DenseKernels.row(x0, hd, 1, nb);
        int x2 = DenseKernels.row(x0, hd, 2, nb);
        int x3 = DenseKernels.row(x0, hd, 3, nb);
        int m0 = (kvh * perKv + j0) * kGroups;
        int m1 = DenseKernels.row(m0, kGroups, 1, nb);
        int m2 = DenseKernels.row(m0, kGroups, 2, nb);
        int m3 = DenseKernels.row(m0, kGroups, 3, nb);
        int s0 = (kvh * perKv + j0) * capacity;
        int s1 = DenseKernels.row(s0, capacity, 1, nb);
        int s2 = DenseKernels.row(s0, capacity, 2, nb);
        int s3 = DenseKernels.row(s0, capacity, 3, nb);
        int chunks = kGroup / L;
        IntVector shifts = Lanes.shifts(bits);
        int flipAll = Lanes.flip(bits, true);
        float half = 1 << (bits - 1);
        for (int t = sink; t < kEnd; t++) {
            int groupBase = (kvh * keyTokenSlots + t - sink) * kGroups;
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = FloatVector.zero(F);
            FloatVector a2 = FloatVector.zero(F);
            FloatVector a3 = FloatVector.zero(F);
            float r0 = 0f;
            float r1 = 0f;
            float r2 = 0f;
            float r3 = 0f;
            int rank = 0;
            for (int kg = 0; kg < kGroups; kg++) {
                short sb = scales[groupBase + kg];
                boolean asym = sb < 0; // the asymmetric flag: the scale's sign bit
                float s = Float.float16ToFloat((short) (sb & 0x7FFF));
                int flip = asym ? flipAll : 0;
                int wo = (groupBase + kg) * kWords;
                int c0 = kg * kGroup;
                FloatVector p0 = FloatVector.zero(F);
                FloatVector p1 = FloatVector.zero(F);
                FloatVector p2 = FloatVector.zero(F);
                FloatVector p3 = FloatVector.zero(F);
                for (int k = 0; k < chunks; k++) {
                    FloatVector x = bits == 8
                            ? Lanes.bytes(codes, wo, k, flip) : Lanes.signed(codes, wo, bits, k, shifts, flip);
                    int c = c0 + k * L;
                    p0 = x.fma(FloatVector.fromArray(F, qf, x0 + c), p0);
                    p1 = x.fma(FloatVector.fromArray(F, qf, x1 + c), p1);
                    p2 = x.fma(FloatVector.fromArray(F, qf, x2 + c), p2);
                    p3 = x.fma(FloatVector.fromArray(F, qf, x3 + c), p3);
                }
                FloatVector sv = FloatVector.broadcast(F, s);
                a0 = p0.fma(sv, a0);
                a1 = p1.fma(sv, a1);
                a2 = p2.fma(sv, a2);
                a3 = p3.fma(sv, a3);
                for (int i = chunks * L; i < kGroup; i++) { // codes past the last lane group, read the same way
                    float x = s * (asym ? BitPacking.unsigned(codes, wo, bits, i) - half
                            : BitPacking.signed(codes, wo, bits, i));
                    int c = c0 + i;
                    r0 += qf[x0 + c] * x;
                    r1 += qf[x1 + c] * x;
                    r2 += qf[x2 + c] * x;
                    r3 += qf[x3 + c] * x;
                }
                if (asym) { // s * u + z = s * (u - half) + (z + s * half)
                    float z = Float.float16ToFloat(zeros[groupBase + rank++]) + s * half;
                    r0 += z * qSum[m0 + kg];
                    r1 += z * qSum[m1 + kg];
                    r2 += z * qSum[m2 + kg];
                    r3 += z * qSum[m3 + kg];
                }
            }
            // Lanes.sums(a0, a1, a2, a3), written out: a call that C2 leaves out of line boxes its vectors
            FloatVector totalH = a0.blend(a1, Lanes.HIGH).add(a1.blend(a0, Lanes.HIGH).rearrange(Lanes.ROT4));
            FloatVector totalK = a2.blend(a3, Lanes.HIGH).add(a3.blend(a2, Lanes.HIGH).rearrange(Lanes.ROT4));
            FloatVector totalQ = totalH.blend(totalK, Lanes.ODD_PAIRS)
                    .add(totalK.blend(totalH, Lanes.ODD_PAIRS).rearrange(Lanes.SWAP2));
            FloatVector total = totalQ.add(totalQ.rearrange(Lanes.SWAP1)); // in lanes 0, 4, 2, 6
            r0 = (total.lane(0) + r0) * scale;
            r1 = (total.lane(4) + r1) * scale;
            r2 = (total.lane(2) + r2) * scale;
            r3 = (total.lane(6) + r3) * scale;
            scores[s0 + t] = r0;
            scores[s1 + t] = r1;
            scores[s2 + t] = r2;
            scores[s3 + t] = r3;
        }
    }

    /**
     * {@code out_j[c] += s * sum_i p_j[i] c_i (+ z * sum_i p_j[i])} over value blocks {@code [0, blocks)} of 32
     * tokens, for the block of query heads j0 .. j0 + nb - 1 of KV head kvh, codes of 2 to 4 bits.
     */
    private void values32(int layer, int kvh, int blocks, int j0, int nb, float[] out) {
        int[] codes = storage.valueCodes(layer);
        short[] scales = storage.valueScales(layer);
        short[] zeros = storage.valueZeros(layer);
        int bits = vBits;
        int words = vWords;
        int slots = valueBlockSlots;
        boolean symmetric = valuesSymmetric;
        int h0 = kvh * perKv + j0;
        int p0 = h0 * capacity + sink;
        int p1 = DenseKernels.row(p0, capacity, 1, nb);
        int p2 = DenseKernels.row(p0, capacity, 2, nb);
        int p3 = DenseKernels.row(p0, capacity, 3, nb);
        int m0 = (kvh * perKv + j0) * slots;
        int m1 = DenseKernels.row(m0, slots, 1, nb);
        int m2 = DenseKernels.row(m0, slots, 2, nb);
        int m3 = DenseKernels.row(m0, slots, 3, nb);
        int o0 = h0 * hd;
        int o1 = DenseKernels.row(o0, hd, 1, nb);
        int o2 = DenseKernels.row(o0, hd, 2, nb);
        int o3 = DenseKernels.row(o0, hd, 3, nb);
        int zeroBase = kvh * slots * hd;
        int zc = kvh * slots; // this KV head's zero cursors
        IntVector shifts = Lanes.shifts(bits);
        int flipAll = Lanes.flip(bits, true);
        float half = 1 << (bits - 1);
        for (int b0 = 0; b0 < blocks; b0 += BLOCKS_PER_TILE) {
            int b1 = Math.min(blocks, b0 + BLOCKS_PER_TILE);
            Arrays.fill(zeroCursor, zc + b0, zc + b1, 0);
            for (int c = 0; c < hd; c++) {
                int groupBase = (kvh * hd + c) * slots;
                FloatVector a0 = FloatVector.zero(F);
                FloatVector a1 = FloatVector.zero(F);
                FloatVector a2 = FloatVector.zero(F);
                FloatVector a3 = FloatVector.zero(F);
                float z0 = 0f;
                float z1 = 0f;
                float z2 = 0f;
                float z3 = 0f;
                for (int b = b0; b < b1; b++) {
                    short sb = scales[groupBase + b];
                    int asym = (sb >> 15) & 1; // the hybrid flag, the scale's sign bit: 1 for an asymmetric group
                    int flip = flipAll & -asym;
                    int wo = (groupBase + b) * words;
                    int t = b * 32;
                    FloatVector x = Lanes.signed(codes, wo, bits, 0, shifts, flip);
                    FloatVector q0 = x.mul(FloatVector.fromArray(F, scores, p0 + t));
                    FloatVector q1 = x.mul(FloatVector.fromArray(F, scores, p1 + t));
                    FloatVector q2 = x.mul(FloatVector.fromArray(F, scores, p2 + t));
                    FloatVector q3 = x.mul(FloatVector.fromArray(F, scores, p3 + t));
                    x = Lanes.signed(codes, wo, bits, 1, shifts, flip);
                    q0 = x.fma(FloatVector.fromArray(F, scores, p0 + t + 8), q0);
                    q1 = x.fma(FloatVector.fromArray(F, scores, p1 + t + 8), q1);
                    q2 = x.fma(FloatVector.fromArray(F, scores, p2 + t + 8), q2);
                    q3 = x.fma(FloatVector.fromArray(F, scores, p3 + t + 8), q3);
                    x = Lanes.signed(codes, wo, bits, 2, shifts, flip);
                    q0 = x.fma(FloatVector.fromArray(F, scores, p0 + t + 16), q0);
                    q1 = x.fma(FloatVector.fromArray(F, scores, p1 + t + 16), q1);
                    q2 = x.fma(FloatVector.fromArray(F, scores, p2 + t + 16), q2);
                    q3 = x.fma(FloatVector.fromArray(F, scores, p3 + t + 16), q3);
                    x = Lanes.signed(codes, wo, bits, 3, shifts, flip);
                    q0 = x.fma(FloatVector.fromArray(F, scores, p0 + t + 24), q0);
                    q1 = x.fma(FloatVector.fromArray(F, scores, p1 + t + 24), q1);
                    q2 = x.fma(FloatVector.fromArray(F, scores, p2 + t + 24), q2);
                    q3 = x.fma(FloatVector.fromArray(F, scores, p3 + t + 24), q3);
                    float s = Float.float16ToFloat((short) (sb & 0x7FFF));
                    FloatVector sv = FloatVector.broadcast(F, s);
                    a0 = q0.fma(sv, a0);
                    a1 = q1.fma(sv, a1);
                    a2 = q2.fma(sv, a2);
                    a3 = q3.fma(sv, a3);
                    if (!symmetric) { // s * u + z = s * (u - half) + (z + s * half), times sum(p); no branch on the flag
                        int rank = zeroCursor[zc + b];
                        zeroCursor[zc + b] = rank + asym;
                        float z = asym * (Float.float16ToFloat(zeros[zeroBase + b * hd + rank]) + s * half);
                        z0 += z * pSum[m0 + b];
                        z1 += z * pSum[m1 + b];
                        z2 += z * pSum[m2 + b];
                        z3 += z * pSum[m3 + b];
                    }
                }
                // Lanes.sums(a0, a1, a2, a3), written out: a call that C2 leaves out of line boxes its vectors
                FloatVector totalH = a0.blend(a1, Lanes.HIGH).add(a1.blend(a0, Lanes.HIGH).rearrange(Lanes.ROT4));
                FloatVector totalK = a2.blend(a3, Lanes.HIGH).add(a3.blend(a2, Lanes.HIGH).rearrange(Lanes.ROT4));
                FloatVector totalQ = totalH.blend(totalK, Lanes.ODD_PAIRS)
                        .add(totalK.blend(totalH, Lanes.ODD_PAIRS).rearrange(Lanes.SWAP2));
                FloatVector total = totalQ.add(totalQ.rearrange(Lanes.SWAP1)); // in lanes 0, 4, 2, 6
                float r0 = out[o0 + c] + total.lane(0) + z0;
                float r1 = out[o1 + c] + total.lane(4) + z1;
                float r2 = out[o2 + c] + total.lane(2) + z2;
                float r3 = out[o3 + c] + total.lane(6) + z3;
                out[o0 + c] = r0;
                out[o1 + c] = r1;
                out[o2 + c] = r2;
                out[o3 + c] = r3;
            }
        }
    }

    /** {@link #values32} for a block of two query heads (no repeated head): GQA groups of 2. */
    private void values32x2(int layer, int kvh, int blocks, int j0, int nb, float[] out) {
        int[] codes = storage.valueCodes(layer);
        short[] scales = storage.valueScales(layer);
        short[] zeros = storage.valueZeros(layer);
        int bits = vBits;
        int words = vWords;
        int slots = valueBlockSlots;
        boolean symmetric = valuesSymmetric;
        int h0 = kvh * perKv + j0;
        int p0 = h0 * capacity + sink;
        int p1 = DenseKernels.row(p0, capacity, 1, nb);
        int m0 = (kvh * perKv + j0) * slots;
        int m1 = DenseKernels.row(m0, slots, 1, nb);
        int o0 = h0 * hd;
        int o1 = DenseKernels.row(o0, hd, 1, nb);
        int zeroBase = kvh * slots * hd;
        int zc = kvh * slots; // this KV head's zero cursors
        IntVector shifts = Lanes.shifts(bits);
        int flipAll = Lanes.flip(bits, true);
        float half = 1 << (bits - 1);
        for (int b0 = 0; b0 < blocks; b0 += BLOCKS_PER_TILE) {
            int b1 = Math.min(blocks, b0 + BLOCKS_PER_TILE);
            Arrays.fill(zeroCursor, zc + b0, zc + b1, 0);
            for (int c = 0; c < hd; c++) {
                int groupBase = (kvh * hd + c) * slots;
                FloatVector a0 = FloatVector.zero(F);
                FloatVector a1 = FloatVector.zero(F);
                float z0 = 0f;
                float z1 = 0f;
                for (int b = b0; b < b1; b++) {
                    short sb = scales[groupBase + b];
                    int asym = (sb >> 15) & 1; // the hybrid flag, the scale's sign bit: 1 for an asymmetric group
                    int flip = flipAll & -asym;
                    int wo = (groupBase + b) * words;
                    int t = b * 32;
                    FloatVector x = Lanes.signed(codes, wo, bits, 0, shifts, flip);
                    FloatVector q0 = x.mul(FloatVector.fromArray(F, scores, p0 + t));
                    FloatVector q1 = x.mul(FloatVector.fromArray(F, scores, p1 + t));
                    x = Lanes.signed(codes, wo, bits, 1, shifts, flip);
                    q0 = x.fma(FloatVector.fromArray(F, scores, p0 + t + 8), q0);
                    q1 = x.fma(FloatVector.fromArray(F, scores, p1 + t + 8), q1);
                    x = Lanes.signed(codes, wo, bits, 2, shifts, flip);
                    q0 = x.fma(FloatVector.fromArray(F, scores, p0 + t + 16), q0);
                    q1 = x.fma(FloatVector.fromArray(F, scores, p1 + t + 16), q1);
                    x = Lanes.signed(codes, wo, bits, 3, shifts, flip);
                    q0 = x.fma(FloatVector.fromArray(F, scores, p0 + t + 24), q0);
                    q1 = x.fma(FloatVector.fromArray(F, scores, p1 + t + 24), q1);
                    float s = Float.float16ToFloat((short) (sb & 0x7FFF));
                    FloatVector sv = FloatVector.broadcast(F, s);
                    a0 = q0.fma(sv, a0);
                    a1 = q1.fma(sv, a1);
                    if (!symmetric) { // s * u + z = s * (u - half) + (z + s * half), times sum(p); no branch on the flag
                        int rank = zeroCursor[zc + b];
                        zeroCursor[zc + b] = rank + asym;
                        float z = asym * (Float.float16ToFloat(zeros[zeroBase + b * hd + rank]) + s * half);
                        z0 += z * pSum[m0 + b];
                        z1 += z * pSum[m1 + b];
                    }
                }
                // Lanes.sums(a0, a1, a0, a1), written out: a call that C2 leaves out of line boxes its vectors
                FloatVector totalH = a0.blend(a1, Lanes.HIGH).add(a1.blend(a0, Lanes.HIGH).rearrange(Lanes.ROT4));
                FloatVector totalK = a0.blend(a1, Lanes.HIGH).add(a1.blend(a0, Lanes.HIGH).rearrange(Lanes.ROT4));
                FloatVector totalQ = totalH.blend(totalK, Lanes.ODD_PAIRS)
                        .add(totalK.blend(totalH, Lanes.ODD_PAIRS).rearrange(Lanes.SWAP2));
                FloatVector total = totalQ.add(totalQ.rearrange(Lanes.SWAP1)); // in lanes 0, 4, 2, 6
                float r0 = out[o0 + c] + total.lane(0) + z0;
                float r1 = out[o1 + c] + total.lane(4) + z1;
                out[o0 + c] = r0;
                out[o1 + c] = r1;
            }
        }
    }

    /** {@link #values32} for a block of one query head (no repeated head): GQA groups of 1 and MHA. */
    private void values32x1(int layer, int kvh, int blocks, int j0, int nb, float[] out) {
        int[] codes = storage.valueCodes(layer);
        short[] scales = storage.valueScales(layer);
        short[] zeros = storage.valueZeros(layer);
        int bits = vBits;
        int words = vWords;
        int slots = valueBlockSlots;
        boolean symmetric = valuesSymmetric;
        int h0 = kvh * perKv + j0;
        int p0 = h0 * capacity + sink;
        int m0 = (kvh * perKv + j0) * slots;
        int o0 = h0 * hd;
        int zeroBase = kvh * slots * hd;
        int zc = kvh * slots; // this KV head's zero cursors
        IntVector shifts = Lanes.shifts(bits);
        int flipAll = Lanes.flip(bits, true);
        float half = 1 << (bits - 1);
        for (int b0 = 0; b0 < blocks; b0 += BLOCKS_PER_TILE) {
            int b1 = Math.min(blocks, b0 + BLOCKS_PER_TILE);
            Arrays.fill(zeroCursor, zc + b0, zc + b1, 0);
            for (int c = 0; c < hd; c++) {
                int groupBase = (kvh * hd + c) * slots;
                FloatVector a0 = FloatVector.zero(F);
                float z0 = 0f;
                for (int b = b0; b < b1; b++) {
                    short sb = scales[groupBase + b];
                    int asym = (sb >> 15) & 1; // the hybrid flag, the scale's sign bit: 1 for an asymmetric group
                    int flip = flipAll & -asym;
                    int wo = (groupBase + b) * words;
                    int t = b * 32;
                    FloatVector x = Lanes.signed(codes, wo, bits, 0, shifts, flip);
                    FloatVector q0 = x.mul(FloatVector.fromArray(F, scores, p0 + t));
                    x = Lanes.signed(codes, wo, bits, 1, shifts, flip);
                    q0 = x.fma(FloatVector.fromArray(F, scores, p0 + t + 8), q0);
                    x = Lanes.signed(codes, wo, bits, 2, shifts, flip);
                    q0 = x.fma(FloatVector.fromArray(F, scores, p0 + t + 16), q0);
                    x = Lanes.signed(codes, wo, bits, 3, shifts, flip);
                    q0 = x.fma(FloatVector.fromArray(F, scores, p0 + t + 24), q0);
                    float s = Float.float16ToFloat((short) (sb & 0x7FFF));
                    FloatVector sv = FloatVector.broadcast(F, s);
                    a0 = q0.fma(sv, a0);
                    if (!symmetric) { // s * u + z = s * (u - half) + (z + s * half), times sum(p); no branch on the flag
                        int rank = zeroCursor[zc + b];
                        zeroCursor[zc + b] = rank + asym;
                        float z = asym * (Float.float16ToFloat(zeros[zeroBase + b * hd + rank]) + s * half);
                        z0 += z * pSum[m0 + b];
                    }
                }
                // Lanes.sum(a0), written out: a call that C2 leaves out of line boxes its vector
                FloatVector totalH = a0.add(a0.rearrange(Lanes.ROT4));
                FloatVector totalQ = totalH.add(totalH.rearrange(Lanes.SWAP2));
                FloatVector total = totalQ.add(totalQ.rearrange(Lanes.SWAP1)); // in lane 0
                float r0 = out[o0 + c] + total.lane(0) + z0;
                out[o0 + c] = r0;
            }
        }
    }

    /** {@link #values32} for any value group size G and code width: lane groups of codes, a scalar tail for G = 4. */
    private void values(int layer, int kvh, int blocks, int j0, int nb, float[] out) {
        int[] codes = storage.valueCodes(layer);
        short[] scales = storage.valueScales(layer);
        short[] zeros = storage.valueZeros(layer);
        int bits = vBits;
        int h0 = kvh * perKv + j0;
        int p0 = h0 * capacity + sink;
        int p1 = DenseKernels.row(p0, capacity, 1, nb);
        int p2 = DenseKernels.row(p0, capacity, 2, nb);
        int p3 = DenseKernels.row(p0, capacity, 3, nb);
        int m0 = (kvh * perKv + j0) * valueBlockSlots;
        int m1 = DenseKernels.row(m0, valueBlockSlots, 1, nb);
        int m2 = DenseKernels.row(m0, valueBlockSlots, 2, nb);
        int m3 = DenseKernels.row(m0, valueBlockSlots, 3, nb);
        int o0 = h0 * hd;
        int o1 = DenseKernels.row(o0, hd, 1, nb);
        int o2 = DenseKernels.row(o0, hd, 2, nb);
        int o3 = DenseKernels.row(o0, hd, 3, nb);
        int zeroBase = kvh * valueBlockSlots * hd;
        int zc = kvh * valueBlockSlots; // this KV head's zero cursors
        int chunks = vGroup / L;
        int tile = Math.max(1, BLOCKS_PER_TILE * 32 / vGroup);
        IntVector shifts = Lanes.shifts(bits);
        int flipAll = Lanes.flip(bits, true);
        float half = 1 << (bits - 1);
        for (int b0 = 0; b0 < blocks; b0 += tile) {
            int b1 = Math.min(blocks, b0 + tile);
            Arrays.fill(zeroCursor, zc + b0, zc + b1, 0);
            for (int c = 0; c < hd; c++) {
                int groupBase = (kvh * hd + c) * valueBlockSlots;
                FloatVector a0 = FloatVector.zero(F);
                FloatVector a1 = FloatVector.zero(F);
                FloatVector a2 = FloatVector.zero(F);
                FloatVector a3 = FloatVector.zero(F);
                float r0 = 0f;
                float r1 = 0f;
                float r2 = 0f;
                float r3 = 0f;
                for (int b = b0; b < b1; b++) {
                    short sb = scales[groupBase + b];
                    boolean asym = sb < 0; // the hybrid flag: the scale's sign bit
                    float s = Float.float16ToFloat((short) (sb & 0x7FFF));
                    int flip = asym ? flipAll : 0;
                    int wo = (groupBase + b) * vWords;
                    int t0 = b * vGroup;
                    FloatVector q0 = FloatVector.zero(F);
                    FloatVector q1 = FloatVector.zero(F);
                    FloatVector q2 = FloatVector.zero(F);
                    FloatVector q3 = FloatVector.zero(F);
                    for (int k = 0; k < chunks; k++) {
                        FloatVector x = bits == 8
                                ? Lanes.bytes(codes, wo, k, flip) : Lanes.signed(codes, wo, bits, k, shifts, flip);
                        int t = t0 + k * L;
                        q0 = x.fma(FloatVector.fromArray(F, scores, p0 + t), q0);
                        q1 = x.fma(FloatVector.fromArray(F, scores, p1 + t), q1);
                        q2 = x.fma(FloatVector.fromArray(F, scores, p2 + t), q2);
                        q3 = x.fma(FloatVector.fromArray(F, scores, p3 + t), q3);
                    }
                    FloatVector sv = FloatVector.broadcast(F, s);
                    a0 = q0.fma(sv, a0);
                    a1 = q1.fma(sv, a1);
                    a2 = q2.fma(sv, a2);
                    a3 = q3.fma(sv, a3);
                    for (int i = chunks * L; i < vGroup; i++) { // tokens past the last lane group (G = 4)
                        float x = s * (asym ? BitPacking.unsigned(codes, wo, bits, i) - half
                                : BitPacking.signed(codes, wo, bits, i));
                        int t = t0 + i;
                        r0 += scores[p0 + t] * x;
                        r1 += scores[p1 + t] * x;
                        r2 += scores[p2 + t] * x;
                        r3 += scores[p3 + t] * x;
                    }
                    if (asym) { // s * u + z = s * (u - half) + (z + s * half), times sum(p)
                        float z = Float.float16ToFloat(zeros[zeroBase + b * hd + zeroCursor[zc + b]++]) + s * half;
                        r0 += z * pSum[m0 + b];
                        r1 += z * pSum[m1 + b];
                        r2 += z * pSum[m2 + b];
                        r3 += z * pSum[m3 + b];
                    }
                }
                // Lanes.sums(a0, a1, a2, a3), written out: a call that C2 leaves out of line boxes its vectors
                FloatVector totalH = a0.blend(a1, Lanes.HIGH).add(a1.blend(a0, Lanes.HIGH).rearrange(Lanes.ROT4));
                FloatVector totalK = a2.blend(a3, Lanes.HIGH).add(a3.blend(a2, Lanes.HIGH).rearrange(Lanes.ROT4));
                FloatVector totalQ = totalH.blend(totalK, Lanes.ODD_PAIRS)
                        .add(totalK.blend(totalH, Lanes.ODD_PAIRS).rearrange(Lanes.SWAP2));
                FloatVector total = totalQ.add(totalQ.rearrange(Lanes.SWAP1)); // in lanes 0, 4, 2, 6
                r0 += out[o0 + c] + total.lane(0);
                r1 += out[o1 + c] + total.lane(4);
                r2 += out[o2 + c] + total.lane(2);
                r3 += out[o3 + c] + total.lane(6);
                out[o0 + c] = r0;
                out[o1 + c] = r1;
                out[o2 + c] = r2;
                out[o3 + c] = r3;
            }
        }
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
