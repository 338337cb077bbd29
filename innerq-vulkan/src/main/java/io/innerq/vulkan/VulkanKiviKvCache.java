package io.innerq.vulkan;

import io.innerq.cache.KvMode;
import io.innerq.port.out.KvCachePort.CacheGeometry;
import io.innerq.quant.BitPacking;

import static org.lwjgl.vulkan.VK10.VK_WHOLE_SIZE;

/**
 * KIVI on the GPU: the layout, residuals and flushing of {@link io.innerq.cache.KiviKvCache} (its class comment is
 * the definition), with quantization and attention as kernels, so the cache never leaves the device. Its attention
 * reads the layout as KIVI's kernels do: every element dequantized ({@code s * c + z}) before its multiply-add.
 *
 * <p>One buffer per layer, in 32-bit words: {@code ringK | ringV | key codes | key scales | key zeros | value codes
 * | value scales | value zeros}, each region laid out as the reference's (fp16 arrays two per word, the even element
 * low). While the prompt runs, its K and V are in a separate fp32 buffer {@code [token][K | V][kvHead][channel]},
 * grown by doubling, with exact attention; {@link #endPrefill} quantizes keys and values in bulk, moves the rest to
 * the residuals, and frees it.
 */
final class VulkanKiviKvCache extends VulkanKvCache {

    private static final int CHUNK = DENSE_CHUNK;

    private final int kvHeads;
    private final int residual;       // R
    private final int kGroup;         // G: tokens per key group
    private final int vGroup;         // Gv: channels per value group
    private final int vGroups;
    private final int kWords;
    private final int vWords;
    private final int keySlots;
    private final int valueSlots;
    private final int maxKeyGroups;
    private final int maxValueTokens;
    private final int seg;            // channels per thread of q.K^T
    // Region offsets in words
    private final int ringK, ringV, keyCodes, keyScales, keyZeros, valueCodes, valueScales, valueZeros;
    private final long layerWords;

    private final int[] keyEnd;
    private final int[] valueEnd;

    private final VulkanBuffer[] layers;
    private final PromptBuffers prompt;
    // Indices of this cache's own sets in a prompt buffer's PromptBuffers.Layer.own()
    private static final int RESIDUAL = 0, KEYS = 1, VALUES = 2;

    private final ComputeKernel toResidual, quantKeys, quantValues, scoresKernel, valuesKernel;
    private final long[] residualSet, keysRingSet, valuesRingSet, scoreSet, valueSet;

    VulkanKiviKvCache(KernelLibrary kernels, CacheGeometry geometry, int capacity, KvMode.Kivi mode, VulkanBuffer sharedIo) {
        super(kernels, geometry, capacity, ceilDiv(capacity, CHUNK),
                PromptBuffers.descriptorSets(geometry.layers(), capacity, 5, 3), sharedIo);
        int bits = mode.bits();
        kvHeads = geometry.kvHeads();
        residual = KvMode.Kivi.RESIDUAL;
        kGroup = KvMode.Kivi.GROUP;
        vGroup = KvMode.Kivi.valueGroup(hd);
        vGroups = hd / vGroup;
        kWords = BitPacking.words(bits, kGroup);
        vWords = BitPacking.words(bits, vGroup);
        keySlots = Math.min(residual, capacity);
        valueSlots = Math.min(residual + 1, capacity);
        maxKeyGroups = capacity / kGroup;
        maxValueTokens = Math.max(0, capacity - residual);
        seg = Math.min(32, hd);

        long keyGroupCount = (long) kvHeads * maxKeyGroups * hd;
        long valueGroupCount = (long) kvHeads * maxValueTokens * vGroups;
        long at = 0;
        ringK = offset(at);
        at += (long) kvHeads * keySlots * hd;
        ringV = offset(at);
        at += (long) kvHeads * valueSlots * hd;
        keyCodes = offset(at);
        at += keyGroupCount * kWords;
        keyScales = offset(at);
        at += (keyGroupCount + 1) / 2;
        keyZeros = offset(at);
        at += (keyGroupCount + 1) / 2;
        valueCodes = offset(at);
        at += valueGroupCount * vWords;
        valueScales = offset(at);
        at += (valueGroupCount + 1) / 2;
        valueZeros = offset(at);
        at += (valueGroupCount + 1) / 2;
        layerWords = offset(at);

        int layerCount = geometry.layers();
        keyEnd = new int[layerCount];
        valueEnd = new int[layerCount];

        toResidual = kernels.get("kivi_residual", 2, 11, hd);
        quantKeys = kernels.get("kivi_quantize_keys", 2, 11, hd, kGroup, bits);
        quantValues = kernels.get("kivi_quantize_values", 2, 11, hd, vGroup, bits);
        scoresKernel = kernels.get("kivi_scores", 3, 11, hd, perKv, kGroup, bits, seg, SCORE_STEPS);
        valuesKernel = kernels.get("kivi_values", 3, 10, hd, perKv, vGroup, bits, CHUNK, valueThreads(hd, perKv));

        layers = new VulkanBuffer[layerCount];
        prompt = new PromptBuffers(this, layerCount, this::promptSets);
        residualSet = new long[layerCount];
        keysRingSet = new long[layerCount];
        valuesRingSet = new long[layerCount];
        scoreSet = new long[layerCount];
        valueSet = new long[layerCount];
        try {
            for (int l = 0; l < layerCount; l++) {
                VulkanBuffer layer = VulkanBuffer.deviceLocal(device, 4 * layerWords);
                layers[l] = layer;
                residualSet[l] = pool.set(toResidual, layer, io);
                keysRingSet[l] = pool.set(quantKeys, layer, layer);
                valuesRingSet[l] = pool.set(quantValues, layer, layer);
                scoreSet[l] = pool.set(scoresKernel, layer, query, scores);
                valueSet[l] = pool.set(valuesKernel, layer, scores, partial);
            }
            // fresh storage: scale and zero slots are OR-ed into
            batch.begin();
            for (VulkanBuffer layer : layers) {
                batch.fill(layer, 0, VK_WHOLE_SIZE, 0);
            }
            batch.submitAndWait();
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** This cache's sets that read a prompt buffer {@code b} of layer {@code l}, by index RESIDUAL, KEYS, VALUES. */
    private long[] promptSets(int l, VulkanBuffer b) {
        return new long[]{pool.set(toResidual, layers[l], b), pool.set(quantKeys, layers[l], b), pool.set(quantValues, layers[l], b)};
    }

    private boolean prefilling() {
        return prompt.active();
    }

    /** In decode, as the reference: a full key residual is quantized, and the oldest value past R, before the append. */
    @Override
    protected void recordStore(int layer, int t) {
        if (prefilling()) {
            prompt.recordStore(layer, t);
            return;
        }
        boolean keys = t - keyEnd[layer] == residual;
        boolean value = t - valueEnd[layer] > residual;
        if (keys) {
            recordKeyGroups(keysRingSet[layer], keyEnd[layer] / kGroup, residual / kGroup, ringK, hd, keySlots * hd, keySlots);
            keyEnd[layer] = t;
        }
        if (value) {
            recordValueTokens(valuesRingSet[layer], valueEnd[layer], 1, ringV, hd, valueSlots * hd, valueSlots);
            valueEnd[layer]++;
        }
        if (keys || value) {
            batch.barrier(); // the append overwrites the slots just quantized
        }
        recordResidual(residualSet[layer], t, t, t + 1, kIo(), vIo(), 0);
    }

    private void recordKeyGroups(long set, int first, int count, int srcBase, int tokenStride, int headStride, int ring) {
        batch.dispatch(quantKeys, set, new int[]{first, count, kvHeads, maxKeyGroups, keyCodes, keyScales, keyZeros, srcBase,
                tokenStride, headStride, ring}, ceilDiv((long) count * kvDim, 64), 1, 1);
    }

    private void recordValueTokens(long set, int first, int count, int srcBase, int tokenStride, int headStride, int ring) {
        batch.dispatch(quantValues, set, new int[]{first, count, kvHeads, maxValueTokens, valueCodes, valueScales, valueZeros,
                srcBase, tokenStride, headStride, ring}, ceilDiv((long) count * kvHeads * vGroups, 64), 1, 1);
    }

    /** Records copying K of tokens {@code [kFrom, to)} and V of {@code [vFrom, to)} into the residuals. */
    private void recordResidual(long set, int kFrom, int vFrom, int to, int kSrc, int vSrc, int tokenStride) {
        int from = Math.min(kFrom, vFrom);
        batch.dispatch(toResidual, set, new int[]{kFrom, vFrom, to, kvHeads, kSrc, vSrc, tokenStride, ringK, ringV, keySlots,
                valueSlots}, ceilDiv((long) (to - from) * kvDim, 64), 1, 1);
    }

    /** Quantizes the prompt's keys and values in bulk, as the reference's endPrefill, moves the rest to the residuals. */
    @Override
    public void endPrefill(int promptLength) {
        checkPromptEnd(promptLength, prefilling());
        flushPending();
        int p = promptLength;
        int keysQuantized = p < residual ? 0 : p - p % residual;
        int valuesQuantized = Math.max(0, p - residual);
        int stride = 2 * kvDim;
        batch.begin();
        for (int l = 0; l < length.length; l++) {
            PromptBuffers.Layer buffer = prompt.layer(l);
            if (buffer == null) {
                continue; // an empty prompt
            }
            if (keysQuantized > 0) {
                recordKeyGroups(buffer.own()[KEYS], 0, keysQuantized / kGroup, 0, stride, hd, 0);
            }
            if (valuesQuantized > 0) {
                recordValueTokens(buffer.own()[VALUES], 0, valuesQuantized, kvDim, stride, hd, 0);
            }
            keyEnd[l] = keysQuantized;
            valueEnd[l] = valuesQuantized;
            recordResidual(buffer.own()[RESIDUAL], keysQuantized, valuesQuantized, p, 0, kvDim, stride);
        }
        batch.submitAndWait();
        prompt.release();
    }

    @Override
    protected void afterSubmit() {
        prompt.releaseRetired();
    }

    @Override
    void recordScores(int layer, int n) {
        if (prefilling()) {
            prompt.recordScores(layer, n);
            return;
        }
        int tokensPerGroup = SCORE_THREADS / (hd / seg);
        batch.dispatch(scoresKernel, scoreSet[layer], new int[]{n, Math.min(n, keyEnd[layer]), keySlots, maxKeyGroups, ringK,
                keyCodes, keyScales, keyZeros, capacity, floatBits((float) (1 / Math.sqrt(hd))), 0},
                ceilDiv(n, SCORE_STEPS * tokensPerGroup), kvHeads, 1);
    }

    @Override
    void recordValues(int layer, int n) {
        if (prefilling()) {
            prompt.recordValues(layer, n);
            return;
        }
        int chunks = ceilDiv(n, CHUNK);
        batch.dispatch(valuesKernel, valueSet[layer], new int[]{n, Math.min(n, valueEnd[layer]), valueSlots, maxValueTokens,
                ringV, valueCodes, valueScales, valueZeros, capacity, g.heads()}, chunks, kvHeads, 1).barrier();
        recordReduce(chunks);
    }

    // The state after decoding n tokens: keys flushed R at a time (1..R in the residual), values past R + 1 quantized.
    private int keyEndFor(int n) {
        return n == 0 ? 0 : (n - 1) / residual * residual;
    }

    private int valueEndFor(int n) {
        return Math.max(0, n - 1 - residual);
    }

    @Override
    void fillForBenchmark(int n) {
        if (prompt != null) {
            prompt.release();
        }
        for (int l = 0; l < length.length; l++) {
            length[l] = n;
            keyEnd[l] = keyEndFor(n);
            valueEnd[l] = valueEndFor(n);
        }
        batch.begin();
        for (VulkanBuffer layer : layers) {
            fill(layer, ringK, keyCodes, 0x3DCCCCCD);            // fp32 0.1
            fill(layer, keyCodes, keyScales, 0x9E3779B9);        // mixed code bits
            fill(layer, keyScales, valueCodes, 0x2C002C00);      // fp16 scales and zero points 1/16
            fill(layer, valueCodes, valueScales, 0x9E3779B9);
            fill(layer, valueScales, (int) layerWords, 0x2C002C00);
        }
        batch.submitAndWait();
    }

    private void fill(VulkanBuffer layer, int from, int to, int word) {
        if (to > from) {
            batch.fill(layer, 4L * from, 4L * (to - from), word);
        }
    }

    @Override
    long keyBytesRead(int n) {
        int quantized = keyEndFor(n);
        return (long) (n - quantized) * kvDim * 4 + (long) kvHeads * (quantized / kGroup) * hd * (4L * kWords + 4);
    }

    @Override
    long valueBytesRead(int n) {
        int quantized = valueEndFor(n);
        return (long) (n - quantized) * kvDim * 4 + (long) kvHeads * quantized * vGroups * (4L * vWords + 4);
    }

    /** As {@link io.innerq.cache.KiviKvCache#bytesInUse()}: the residuals in fp32, codes, scales and zero points. */
    @Override
    public long bytesInUse() {
        long bytes = 0;
        for (int l = 0; l < length.length; l++) {
            int n = length[l];
            if (prefilling()) {
                bytes += 2L * n * kvDim * Float.BYTES;
                continue;
            }
            bytes += (long) (2 * n - keyEnd[l] - valueEnd[l]) * kvDim * Float.BYTES;
            bytes += (long) kvHeads * (keyEnd[l] / kGroup) * hd * (kWords * 4L + 4);
            bytes += (long) kvHeads * valueEnd[l] * vGroups * (vWords * 4L + 4);
        }
        return bytes;
    }

    @Override
    protected void releaseStorage() {
        if (prompt != null) {
            prompt.release();
        }
        if (layers != null) {
            for (VulkanBuffer b : layers) {
                closeQuietly(b);
            }
        }
    }
}
