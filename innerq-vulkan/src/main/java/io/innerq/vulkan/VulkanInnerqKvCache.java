package io.innerq.vulkan;

import io.innerq.cache.InnerqConfig;
import io.innerq.port.out.KvCachePort.CacheGeometry;
import io.innerq.quant.BitPacking;
import io.innerq.quant.QuantMode;

import static org.lwjgl.vulkan.VK10.VK_WHOLE_SIZE;

/**
 * The InnerQ cache on the GPU: the regions, windows, flushing and key normalization of
 * {@link io.innerq.cache.InnerqKvCache} (its class comment is the definition), with quantization and attention as
 * kernels, so the cache never leaves the device.
 *
 * <p>One buffer per layer, in 32-bit words: {@code sinkK | sinkV | ringK | ringV | key codes | key scales | key
 * zeros | value codes | value scales | value zeros | key factors}, each region laid out as the reference's (fp16
 * arrays two per word, the even element low), except that a zero point sits at its group's index (the reference
 * packs a token's or block's zero points by rank; the space reserved is the same). While the prompt runs, its K and V
 * are in a separate fp32 buffer {@code [token][K | V][kvHead][channel]}, grown by doubling, with exact attention;
 * {@link #endPrefill} quantizes its middle in bulk and frees it.
 */
final class VulkanInnerqKvCache extends VulkanKvCache {

    private final InnerqConfig config;
    private final int kvHeads;
    private final int sink;
    private final int recent;
    private final int vGroup;
    private final int kGroup;
    private final int kGroups;
    private final int kWords;
    private final int vWords;
    private final int sinkSlots;
    private final int ringSlots;
    private final int maxKeyTokens;
    private final int maxValueGroups;
    // Region offsets in words
    private final int sinkK, sinkV, ringK, ringV, keyCodes, keyScales, keyZeros, valueCodes, valueScales, valueZeros, factors;
    private final long layerWords;

    private final int[] keyEnd;
    private final int[] keysQuantized;     // keys [sink, keysQuantized) have codes; at least keyEnd (ahead by recordDeferred)
    private final int[] valueEnd;
    private final boolean[] keysStarted;

    private final VulkanBuffer[] layers;
    private final PromptBuffers prompt;
    // Indices of this cache's own sets in a prompt buffer's PromptBuffers.Layer.own()
    private static final int MOVE = 0, FACTORS = 1, KEYS = 2, VALUES = 3;
    private final VulkanBuffer counters;    // [layer][2]: key and value zero points written

    private final ComputeKernel append, move, factorKernel, quantKeys, quantValues, scoresKernel, valuesKernel;
    private final long[] appendSet, factorsRingSet, keysRingSet, valuesRingSet, scoreSet, valueSet;

    VulkanInnerqKvCache(KernelLibrary kernels, CacheGeometry geometry, int capacity, InnerqConfig config,
                        VulkanBuffer sharedIo) {
        super(kernels, geometry, capacity, maxChunks(geometry, capacity, config),
                PromptBuffers.descriptorSets(geometry.layers(), capacity, 6, 4), sharedIo);
        this.config = config;
        kvHeads = geometry.kvHeads();
        sink = config.sink();
        recent = config.recent();
        vGroup = config.groupSize();
        kGroup = config.keyGroupSize(hd);
        kGroups = hd / kGroup;
        kWords = BitPacking.words(config.keyBits(), kGroup);
        vWords = BitPacking.words(config.valueBits(), vGroup);
        sinkSlots = Math.min(sink, capacity);
        ringSlots = (int) Math.clamp((long) recent + vGroup, 0, Math.max(0, capacity - sink));
        maxKeyTokens = Math.max(0, capacity - sink - recent);
        maxValueGroups = maxKeyTokens / vGroup;

        long keyGroupCount = (long) kvHeads * maxKeyTokens * kGroups;
        long valueGroupCount = (long) kvHeads * hd * maxValueGroups;
        long at = 0;
        sinkK = offset(at);
        at += (long) kvHeads * sinkSlots * hd;
        sinkV = offset(at);
        at += (long) kvHeads * sinkSlots * hd;
        ringK = offset(at);
        at += (long) kvHeads * ringSlots * hd;
        ringV = offset(at);
        at += (long) kvHeads * ringSlots * hd;
        keyCodes = offset(at);
        at += keyGroupCount * kWords;
        keyScales = offset(at);
        at += (keyGroupCount + 1) / 2;
        keyZeros = offset(at);
        at += config.keyMode() == QuantMode.SYMMETRIC ? 0 : (keyGroupCount + 1) / 2;
        valueCodes = offset(at);
        at += valueGroupCount * vWords;
        valueScales = offset(at);
        at += (valueGroupCount + 1) / 2;
        valueZeros = offset(at);
        at += config.valueMode() == QuantMode.SYMMETRIC ? 0 : (valueGroupCount + 1) / 2;
        factors = offset(at);
        at += kvDim;
        layerWords = at;

        int layerCount = geometry.layers();
        keyEnd = new int[layerCount];
        keysQuantized = new int[layerCount];
        valueEnd = new int[layerCount];
        keysStarted = new boolean[layerCount];
        java.util.Arrays.fill(keyEnd, sink);
        java.util.Arrays.fill(keysQuantized, sink);
        java.util.Arrays.fill(valueEnd, sink);

        int norm = config.keyNormalization() ? 1 : 0;
        append = kernels.get("dense_append", 2, 8, hd, 0);
        move = kernels.get("move_tokens", 2, 12, hd);
        factorKernel = kernels.get("innerq_key_factors", 2, 9, hd);
        quantKeys = kernels.get("innerq_quantize_keys", 3, 14, hd, kGroup, config.keyBits(), mode(config.keyMode()), norm);
        quantValues = kernels.get("innerq_quantize_values", 3, 13, hd, vGroup, config.valueBits(), mode(config.valueMode()));
        scoresKernel = kernels.get("innerq_scores", 3, 16, hd, perKv, kGroup, config.keyBits(), mode(config.keyMode()), norm,
                shuffle(kGroups), INNERQ_SCORE_STEPS, INNERQ_SCORE_THREADS);
        valuesKernel = kernels.get("innerq_values", 3, 16, hd, perKv, vGroup, config.valueBits(), mode(config.valueMode()),
                valueThreads(hd, perKv));

        layers = new VulkanBuffer[layerCount];
        prompt = new PromptBuffers(this, layerCount, this::promptSets);
        appendSet = new long[layerCount];
        factorsRingSet = new long[layerCount];
        keysRingSet = new long[layerCount];
        valuesRingSet = new long[layerCount];
        scoreSet = new long[layerCount];
        valueSet = new long[layerCount];
        VulkanBuffer counterBuffer = null;
        try {
            counterBuffer = VulkanBuffer.hostVisible(device, 8L * layerCount);
            counterBuffer.write(0, new int[2 * layerCount], 0, 2 * layerCount);
            for (int l = 0; l < layerCount; l++) {
                VulkanBuffer layer = VulkanBuffer.deviceLocal(device, 4 * layerWords);
                layers[l] = layer;
                appendSet[l] = pool.set(append, layer, io);
                factorsRingSet[l] = pool.set(factorKernel, layer, layer);
                keysRingSet[l] = pool.set(quantKeys, layer, layer, counterBuffer);
                valuesRingSet[l] = pool.set(quantValues, layer, layer, counterBuffer);
                scoreSet[l] = pool.set(scoresKernel, layer, query, scores);
                valueSet[l] = pool.set(valuesKernel, layer, scores, partial);
            }
            // fresh storage: scale and zero slots are OR-ed into, and unwritten factors read as 1 (the shaders divide by them)
            batch.begin();
            for (VulkanBuffer layer : layers) {
                batch.fill(layer, 0, VK_WHOLE_SIZE, 0);
            }
            batch.barrier();
            for (VulkanBuffer layer : layers) {
                batch.fill(layer, 4L * factors, 4L * kvDim, Float.floatToRawIntBits(1f));
            }
            batch.submitAndWait();
        } catch (RuntimeException e) {
            counters = counterBuffer;
            close();
            throw e;
        }
        counters = counterBuffer;
    }

    /** fp32 tokens per p.V workgroup (the sink and the window, spread over workgroups). */
    static final int FP_CHUNK = 32;
    /** Tokens of quantized value blocks per p.V workgroup (innerq_values CHUNK). */
    static final int VALUE_CHUNK = 256;

    private static int maxChunks(CacheGeometry g, int capacity, InnerqConfig config) {
        int valueGroups = Math.max(0, capacity - config.sink() - config.recent()) / config.groupSize();
        int blocksPerChunk = VALUE_CHUNK / config.groupSize();
        long fp32 = Math.min(capacity, (long) config.sink() + config.recent() + config.groupSize());
        return Math.max(ceilDiv(capacity, DENSE_CHUNK), ceilDiv(fp32, FP_CHUNK) + ceilDiv(valueGroups, blocksPerChunk));
    }

    /**
     * innerq_scores' workgroup: 128 threads taking one step of tokens. Measured on the H200 at 4k and 32k tokens
     * against 64/128/256 threads and 1/2/4/8 steps (docs/benchmarks.md); the kernel's time barely moved.
     */
    private static final int INNERQ_SCORE_THREADS = 128;
    private static final int INNERQ_SCORE_STEPS = 1;

    /** This cache's sets that read a prompt buffer {@code b} of layer {@code l}, by index MOVE, FACTORS, KEYS, VALUES. */
    private long[] promptSets(int l, VulkanBuffer b) {
        return new long[]{pool.set(move, layers[l], b), pool.set(factorKernel, layers[l], b),
                pool.set(quantKeys, layers[l], b, counters), pool.set(quantValues, layers[l], b, counters)};
    }

    private static int mode(QuantMode mode) {
        return switch (mode) {
            case SYMMETRIC -> 0;
            case ASYMMETRIC -> 1;
            case HYBRID -> 2;
        };
    }

    private boolean prefilling() {
        return prompt.active();
    }

    @Override
    protected void recordStore(int layer, int t) {
        if (prefilling()) {
            prompt.recordStore(layer, t);
            return;
        }
        if (t < sink) {
            batch.dispatch(append, appendSet[layer], new int[]{t, kvHeads, sinkK, sinkV, sinkSlots * hd, hd, kIo(), vIo()},
                    ceilDiv(kvDim, 64), 1, 1);
            return;
        }
        int slot = (t - sink) % ringSlots;
        batch.dispatch(append, appendSet[layer], new int[]{slot, kvHeads, ringK, ringV, ringSlots * hd, hd, kIo(), vIo()},
                ceilDiv(kvDim, 64), 1, 1);
        int n = t + 1;
        boolean valueBlock = n - valueEnd[layer] >= recent + vGroup;
        // The flushes read tokens older than the window, in ring slots other than t's: with a window they need no
        // barrier after the append (without one they read token t itself).
        boolean readsNewToken = recent == 0;
        boolean factorsRecorded = false;
        if (valueBlock && !keysStarted[layer]) {
            if (readsNewToken) {
                batch.barrier();
            }
            recordFactors(layer, factorsRingSet[layer], valueEnd[layer], valueEnd[layer] + vGroup, ringK, hd, ringSlots * hd, ringSlots);
            factorsRecorded = true;
        }
        int keysTo = n - recent;
        boolean keys = keysStarted[layer] && keysTo > keyEnd[layer];
        boolean keysToRecord = keys && keysTo > keysQuantized[layer]; // else quantized ahead (recordDeferred)
        if ((valueBlock || keysToRecord) && (factorsRecorded || readsNewToken)) {
            batch.barrier(); // key quantization reads the factors
        }
        if (valueBlock) {
            recordValueBlocks(layer, valuesRingSet[layer], (valueEnd[layer] - sink) / vGroup, 1, ringV, hd, ringSlots * hd, ringSlots);
            valueEnd[layer] += vGroup;
        }
        if (keysToRecord) {
            recordKeys(layer, keysRingSet[layer], keysQuantized[layer], keysTo, ringK, hd, ringSlots * hd, ringSlots);
            keysQuantized[layer] = keysTo;
        }
        if (keys) {
            keyEnd[layer] = keysTo;
        }
    }

    /**
     * Quantizes ahead the key that the layer's next token will push out of the window: it is in the ring already, and
     * its codes are not read until then, so the kernel runs beside this step's later work instead of adding its
     * latency to the next append. Needs a window (the next token's own key is not stored yet), and symmetric keys
     * (an asymmetric group counts its zero point as written, which {@link #bytesInUse} must not see early).
     */
    @Override
    void recordDeferred(int layer) {
        int next = length[layer] + 1;
        int to = next - recent;
        if (recent > 0 && config.keyMode() == QuantMode.SYMMETRIC && keysStarted[layer] && next <= capacity
                && to > keysQuantized[layer] && !prefilling()) {
            recordKeys(layer, keysRingSet[layer], keysQuantized[layer], to, ringK, hd, ringSlots * hd, ringSlots);
            keysQuantized[layer] = to;
        }
    }

    private void recordFactors(int layer, long set, int from, int to, int srcBase, int tokenStride, int headStride, int ring) {
        keysStarted[layer] = true;
        if (config.keyNormalization()) {
            batch.dispatch(factorKernel, set, new int[]{from, to, kvHeads, sink, factors, srcBase, tokenStride, headStride, ring},
                    ceilDiv(kvDim, 64), 1, 1);
        }
    }

    private void recordValueBlocks(int layer, long set, int first, int blocks, int srcBase, int tokenStride, int headStride, int ring) {
        batch.dispatch(quantValues, set, new int[]{first, blocks, kvHeads, sink, maxValueGroups, valueCodes, valueScales,
                valueZeros, srcBase, tokenStride, headStride, ring, 2 * layer + 1}, ceilDiv((long) blocks * kvDim, 64), 1, 1);
    }

    private void recordKeys(int layer, long set, int from, int to, int srcBase, int tokenStride, int headStride, int ring) {
        batch.dispatch(quantKeys, set, new int[]{from, to - from, kvHeads, sink, maxKeyTokens, keyCodes, keyScales, keyZeros,
                factors, srcBase, tokenStride, headStride, ring, 2 * layer}, ceilDiv((long) (to - from) * kvHeads * kGroups, 64), 1, 1);
    }

    /** Quantizes the prompt's middle in bulk, moves the sink and the window out of the prompt buffer, frees it. */
    @Override
    public void endPrefill(int promptLength) {
        checkPromptEnd(promptLength, prefilling());
        flushPending();
        int p = promptLength;
        int stride = 2 * kvDim;
        batch.begin();
        for (int l = 0; l < length.length; l++) {
            PromptBuffers.Layer buffer = prompt.layer(l);
            if (buffer == null) {
                continue; // an empty prompt
            }
            int middle = p - sink - recent;
            if (middle >= vGroup) {
                recordFactors(l, buffer.own()[FACTORS], sink, p - recent, 0, stride, hd, 0);
                batch.barrier();
                int blocks = middle / vGroup;
                recordValueBlocks(l, buffer.own()[VALUES], 0, blocks, kvDim, stride, hd, 0);
                valueEnd[l] = sink + blocks * vGroup;
                recordKeys(l, buffer.own()[KEYS], sink, p - recent, 0, stride, hd, 0);
                keyEnd[l] = p - recent;
                keysQuantized[l] = keyEnd[l];
            }
            int sinkEnd = Math.min(p, sink);
            if (sinkEnd > 0) {
                batch.dispatch(move, buffer.own()[MOVE], new int[]{0, sinkEnd, kvHeads, sink, stride, hd, kvDim, sinkK, sinkV, hd,
                        sinkSlots * hd, 0}, ceilDiv((long) sinkEnd * kvDim, 64), 1, 1);
            }
            if (p > valueEnd[l]) {
                batch.dispatch(move, buffer.own()[MOVE], new int[]{valueEnd[l], p, kvHeads, sink, stride, hd, kvDim, ringK, ringV, hd,
                        ringSlots * hd, ringSlots}, ceilDiv((long) (p - valueEnd[l]) * kvDim, 64), 1, 1);
            }
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
        batch.dispatch(scoresKernel, scoreSet[layer], new int[]{n, Math.min(n, sink), Math.min(n, keyEnd[layer]), sink,
                sinkSlots, ringSlots, maxKeyTokens, sinkK, ringK, keyCodes, keyScales, keyZeros, factors, capacity,
                floatBits((float) (1 / Math.sqrt(hd))), 0}, ceilDiv(n, INNERQ_SCORE_STEPS * 2 * (INNERQ_SCORE_THREADS / kGroups)), kvHeads, 1);
    }

    @Override
    void recordValues(int layer, int n) {
        if (prefilling()) {
            prompt.recordValues(layer, n);
            return;
        }
        int sinkEnd = Math.min(n, sink);
        int vEnd = Math.min(n, valueEnd[layer]);
        int vBlocks = Math.max(0, vEnd - sinkEnd) / vGroup;
        int fp32Tokens = sinkEnd + (n - Math.min(n, Math.max(sink, vEnd)));
        int fpChunks = ceilDiv(fp32Tokens, FP_CHUNK);
        int chunks = fpChunks + ceilDiv(vBlocks, VALUE_CHUNK / vGroup);
        batch.dispatch(valuesKernel, valueSet[layer], new int[]{n, sinkEnd, vEnd, sink, sinkSlots, ringSlots, maxValueGroups,
                vBlocks, sinkV, ringV, valueCodes, valueScales, valueZeros, capacity, g.heads(), fpChunks}, chunks, kvHeads, 1)
                .barrier();
        recordReduce(chunks);
    }

    @Override
    void fillForBenchmark(int n) {
        if (prompt != null) {
            prompt.release();
        }
        int blocks = Math.max(0, n - sink - recent) / vGroup;
        for (int l = 0; l < length.length; l++) {
            length[l] = n;
            keysStarted[l] = blocks > 0;
            valueEnd[l] = sink + blocks * vGroup;
            keyEnd[l] = blocks > 0 ? n - recent : sink;
            keysQuantized[l] = keyEnd[l];
        }
        batch.begin();
        for (VulkanBuffer layer : layers) {
            batch.fill(layer, 4L * sinkK, 4L * (keyCodes - sinkK), 0x3DCCCCCD)          // fp32 0.1
                    .fill(layer, 4L * keyCodes, 4L * (keyScales - keyCodes), 0x9E3779B9)   // mixed code bits
                    .fill(layer, 4L * keyScales, 4L * (valueCodes - keyScales), 0x2C002C00) // fp16 scales 1/16, zeros
                    .fill(layer, 4L * valueCodes, 4L * (valueScales - valueCodes), 0x9E3779B9)
                    .fill(layer, 4L * valueScales, 4L * (factors - valueScales), 0x2C002C00)
                    .fill(layer, 4L * factors, 4L * kvDim, Float.floatToRawIntBits(1f));
        }
        batch.submitAndWait();
    }

    @Override
    long keyBytesRead(int n) {
        int quantized = Math.max(0, keyEndFor(n) - sink);
        long fp32 = (long) (n - quantized) * kvDim * 4;
        long groups = (long) quantized * kvHeads * kGroups;
        return fp32 + groups * (4L * kWords + 2) + (config.keyMode() == QuantMode.SYMMETRIC ? 0 : groups * 2)
                + (config.keyNormalization() ? 4L * kvDim : 0);
    }

    @Override
    long valueBytesRead(int n) {
        int blocks = Math.max(0, n - sink - recent) / vGroup;
        long fp32 = (long) (n - blocks * vGroup) * kvDim * 4;
        long groups = (long) blocks * kvHeads * hd;
        return fp32 + groups * (4L * vWords + 2) + (config.valueMode() == QuantMode.SYMMETRIC ? 0 : groups * 2);
    }

    private int keyEndFor(int n) {
        return Math.max(0, n - sink - recent) / vGroup > 0 ? n - recent : sink;
    }

    /** As {@link io.innerq.cache.InnerqKvCache#bytesInUse()}: windows in fp32, codes, scales, zero points written, factors. */
    @Override
    public long bytesInUse() {
        if (prefilling()) {
            long tokens = 0;
            for (int n : length) {
                tokens += n;
            }
            return 2L * tokens * kvDim * Float.BYTES;
        }
        int[] zeros = new int[2 * length.length];
        counters.read(0, zeros, 0, zeros.length);
        long bytes = 0;
        for (int l = 0; l < length.length; l++) {
            int n = length[l];
            long fp32Tokens = 2L * Math.min(n, sink);
            if (n > sink) {
                fp32Tokens += (n - keyEnd[l]) + (n - valueEnd[l]);
            }
            bytes += fp32Tokens * kvDim * Float.BYTES;
            bytes += (long) kvHeads * (keyEnd[l] - sink) * kGroups * (kWords * 4L + 2);
            bytes += (long) kvHeads * hd * ((valueEnd[l] - sink) / vGroup) * (vWords * 4L + 2);
            bytes += 2L * (Integer.toUnsignedLong(zeros[2 * l]) + Integer.toUnsignedLong(zeros[2 * l + 1]));
            if (keysStarted[l] && config.keyNormalization()) {
                bytes += (long) kvDim * Float.BYTES;
            }
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
        closeQuietly(counters);
    }
}
