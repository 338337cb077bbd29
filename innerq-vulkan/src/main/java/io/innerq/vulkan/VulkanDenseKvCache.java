package io.innerq.vulkan;

import io.innerq.port.out.KvCachePort.CacheGeometry;

/**
 * fp32 or fp16 K and V on the GPU, per layer {@code [K | V]}, each {@code [kvHead][token][channel]} (fp16: two per
 * 32-bit word, the even channel low). Exact attention over every token; the baseline the quantized layouts are
 * measured against.
 */
final class VulkanDenseKvCache extends VulkanKvCache {

    private final boolean half;
    private final int wordsPerToken;   // of one KV head
    private final long headStride;     // words per KV head of K (or V)
    private final VulkanBuffer[] layers;
    private final ComputeKernel append;
    private final ComputeKernel scoresKernel;
    private final ComputeKernel valuesKernel;
    private final long[] appendSets;
    private final long[] scoreSets;
    private final long[] valueSets;

    VulkanDenseKvCache(KernelLibrary kernels, CacheGeometry geometry, int capacity, boolean half, VulkanBuffer sharedIo) {
        super(kernels, geometry, capacity, ceilDiv(capacity, DENSE_CHUNK), 3 * geometry.layers(), sharedIo);
        this.half = half;
        wordsPerToken = half ? hd / 2 : hd;
        headStride = (long) capacity * wordsPerToken;
        int h = half ? 1 : 0;
        append = kernels.get("dense_append", 2, 8, hd, h);
        scoresKernel = denseScoresKernel(half);
        valuesKernel = denseValuesKernel(half);
        layers = new VulkanBuffer[geometry.layers()];
        appendSets = new long[layers.length];
        scoreSets = new long[layers.length];
        valueSets = new long[layers.length];
        try {
            for (int l = 0; l < layers.length; l++) {
                layers[l] = VulkanBuffer.deviceLocal(device, 4L * 2 * geometry.kvHeads() * headStride);
                appendSets[l] = pool.set(append, layers[l], io);
                scoreSets[l] = pool.set(scoresKernel, layers[l], query, scores);
                valueSets[l] = pool.set(valuesKernel, layers[l], scores, partial);
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private int vBase() {
        return Math.toIntExact(g.kvHeads() * headStride);
    }

    @Override
    protected void recordStore(int layer, int position) {
        int words = g.kvHeads() * wordsPerToken;
        batch.dispatch(append, appendSets[layer], new int[]{position, g.kvHeads(), 0, vBase(), (int) headStride,
                wordsPerToken, kIo(), vIo()}, ceilDiv(words, 64), 1, 1);
    }

    @Override
    void recordScores(int layer, int n) {
        recordDenseScores(scoresKernel, half, scoreSets[layer], n, 0, (int) headStride, wordsPerToken);
    }

    @Override
    void recordValues(int layer, int n) {
        recordDenseValues(valuesKernel, valueSets[layer], n, vBase(), (int) headStride, wordsPerToken);
    }

    @Override
    void fillForBenchmark(int n) {
        java.util.Arrays.fill(length, n);
        batch.begin();
        for (VulkanBuffer layer : layers) {
            batch.fill(layer, 0, org.lwjgl.vulkan.VK10.VK_WHOLE_SIZE, half ? 0x2E662E66 : 0x3DCCCCCD);
        }
        batch.submitAndWait();
    }

    @Override
    long keyBytesRead(int n) {
        return (long) n * kvDim * (half ? 2 : 4);
    }

    @Override
    long valueBytesRead(int n) {
        return keyBytesRead(n);
    }

    @Override
    public long bytesInUse() {
        long tokens = 0;
        for (int n : length) {
            tokens += n;
        }
        return 2L * tokens * kvDim * (half ? 2 : 4);
    }

    @Override
    protected void releaseStorage() {
        if (layers != null) {
            for (VulkanBuffer b : layers) {
                closeQuietly(b);
            }
        }
    }
}
