package io.innerq.vulkan;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;

/**
 * The running prompt of a quantized GPU cache: per layer an fp32 buffer {@code [token][K | V][kvHead][channel]},
 * made at the first store and grown by doubling, read by exact attention (the dense kernels) until the owning cache
 * quantizes the prompt and calls {@link #release}. Each buffer comes with the descriptor sets that read it: the
 * append and the dense attention here, and the owner's own ({@code ownSets}, e.g. its quantize kernels).
 */
final class PromptBuffers {

    static final int FIRST_TOKENS = 256;

    /** A layer's buffer ({@code tokens} slots) and the sets that bind it; {@code own} are the owner's. */
    record Layer(VulkanBuffer buffer, int tokens, long append, long scores, long probs, long[] own) {
    }

    private final VulkanKvCache cache;
    private final BiFunction<Integer, VulkanBuffer, long[]> ownSets;
    private final ComputeKernel append;
    private final ComputeKernel denseScores;
    private final ComputeKernel denseValues;
    private final List<VulkanBuffer> retired = new ArrayList<>(); // outgrown, freed after the submission
    private Layer[] layers;

    /** {@code ownSets.apply(layer, buffer)}: the owner's descriptor sets that read a new prompt buffer of a layer. */
    PromptBuffers(VulkanKvCache cache, int layerCount, BiFunction<Integer, VulkanBuffer, long[]> ownSets) {
        this.cache = cache;
        this.ownSets = ownSets;
        this.append = cache.kernels.get("dense_append", 2, 8, cache.hd, 0);
        this.denseScores = cache.denseScoresKernel(false);
        this.denseValues = cache.denseValuesKernel(false);
        this.layers = new Layer[layerCount];
    }

    /** Descriptor sets an owner needs: {@code fixedPerLayer}, plus its own and these for every size a buffer may reach. */
    static int descriptorSets(int layers, int capacity, int fixedPerLayer, int ownPerBuffer) {
        int sizes = 1;
        for (long t = Math.min(capacity, FIRST_TOKENS); t < capacity; t *= 2) {
            sizes++;
        }
        return layers * (fixedPerLayer + (3 + ownPerBuffer) * sizes);
    }

    /** Whether the prompt still runs (until {@link #release}). */
    boolean active() {
        return layers != null;
    }

    /** The buffer of {@code layer}, or null before its first store. */
    Layer layer(int layer) {
        return layers[layer];
    }

    /** Records writing the staged k and v at token {@code t} of {@code layer}, growing its buffer first if needed. */
    void recordStore(int layer, int t) {
        Layer l = bufferFor(layer, t);
        cache.batch.dispatch(append, l.append(), new int[]{t, cache.g.kvHeads(), 0, cache.kvDim, cache.hd, 2 * cache.kvDim,
                cache.kIo(), cache.vIo()}, VulkanKvCache.ceilDiv(cache.kvDim, 64), 1, 1);
    }

    /** Records exact q.K^T over tokens {@code [0, n)} of the prompt. */
    void recordScores(int layer, int n) {
        cache.recordDenseScores(denseScores, false, layers[layer].scores(), n, 0, cache.hd, 2 * cache.kvDim);
    }

    /** Records exact p.V over tokens {@code [0, n)} of the prompt, and the reduction. */
    void recordValues(int layer, int n) {
        cache.recordDenseValues(denseValues, layers[layer].probs(), n, cache.kvDim, cache.hd, 2 * cache.kvDim);
    }

    private Layer bufferFor(int layer, int t) {
        Layer l = layers[layer];
        if (l != null && t < l.tokens()) {
            return l;
        }
        int tokens = Math.min(cache.capacity, Math.max(FIRST_TOKENS, l == null ? 0 : 2 * l.tokens()));
        while (tokens <= t) {
            tokens = Math.min(cache.capacity, 2 * tokens);
        }
        VulkanBuffer b = VulkanBuffer.deviceLocal(cache.device, 8L * tokens * cache.kvDim);
        Layer grown = new Layer(b, tokens, cache.pool.set(append, b, cache.io),
                cache.pool.set(denseScores, b, cache.query, cache.scores),
                cache.pool.set(denseValues, b, cache.scores, cache.partial), ownSets.apply(layer, b));
        if (l != null) {
            cache.batch.copy(l.buffer(), 0, b, 0, l.buffer().size()).barrier();
            retired.add(l.buffer());
        }
        layers[layer] = grown;
        return grown;
    }

    /** Frees buffers outgrown during the last submission (call after it completed). */
    void releaseRetired() {
        retired.forEach(VulkanKvCache::closeQuietly);
        retired.clear();
    }

    /** Frees every buffer: the prompt has ended (its submission completed) or the cache closes. */
    void release() {
        if (layers != null) {
            for (Layer l : layers) {
                if (l != null) {
                    VulkanKvCache.closeQuietly(l.buffer());
                }
            }
            layers = null;
        }
        releaseRetired();
    }
}
