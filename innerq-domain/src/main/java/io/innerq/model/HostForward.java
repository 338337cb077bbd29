package io.innerq.model;

import io.innerq.cache.KvMode;
import io.innerq.port.out.ForwardPort;
import io.innerq.port.out.KvCache;
import io.innerq.port.out.KvCachePort;
import io.innerq.port.out.KvCachePort.CacheGeometry;
import io.innerq.port.out.MatVecPort;

/**
 * The forward pass on the host: {@link LlamaForward} over a backend's matrix products and KV caches (which may
 * themselves sit on a device, as a GPU cache with products on the CPU does).
 */
public final class HostForward implements ForwardPort {

    private final LlamaModel model;
    private final MatVecPort ops;
    private final KvCachePort caches;
    private final CacheGeometry geometry;

    public HostForward(LlamaModel model, MatVecPort ops, KvCachePort caches) {
        this.model = model;
        this.ops = ops;
        this.caches = caches;
        LlamaConfig c = model.config();
        this.geometry = new CacheGeometry(c.layers(), c.heads(), c.kvHeads(), c.headDim());
    }

    @Override
    public Sequence start(int capacity, KvMode mode) {
        return new HostSequence(new LlamaForward(model, ops), caches.allocate(geometry, capacity, mode));
    }

    @Override
    public String name() {
        return ops.name();
    }

    private record HostSequence(LlamaForward forward, KvCache cache) implements Sequence {

        @Override
        public float[] prefill(int[] tokens, int start, int count) {
            return forward.prefill(cache, tokens, start, count);
        }

        @Override
        public float[] step(int token, int position, boolean computeLogits) {
            return forward.step(cache, token, position, computeLogits);
        }

        @Override
        public void endPrefill(int promptLength) {
            cache.endPrefill(promptLength);
        }

        @Override
        public int capacity() {
            return cache.capacity();
        }

        @Override
        public long kvBytes() {
            return cache.bytesInUse();
        }

        @Override
        public void close() {
            cache.close();
        }
    }
}
