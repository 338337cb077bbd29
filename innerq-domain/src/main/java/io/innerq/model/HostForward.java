package io.innerq.model;

import io.innerq.cache.KvMode;
import io.innerq.port.out.ForwardPort;
import io.innerq.port.out.KvCache;
import io.innerq.port.out.KvCachePort;
import io.innerq.port.out.KvCachePort.CacheGeometry;
import io.innerq.port.out.MatVecPort;

import java.util.List;

/**
 * The forward pass on the host: {@link LlamaForward} over a backend's matrix products and KV caches (which may
 * themselves sit on a device, as a GPU cache with products on the CPU does). Its {@link #batch} runs the tokens of
 * several sequences through one {@link MatVecPort#matMul} per weight.
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
        return new HostSequence(this, new LlamaForward(model, ops), caches.allocate(geometry, capacity, mode));
    }

    @Override
    public String name() {
        return ops.name();
    }

    @Override
    public Batch batch(int maxTokens) {
        return new HostBatch(this, new BatchForward(model.config(), model.weights(), ops, caches, new Rope(model),
                maxTokens));
    }

    /** Each span's tokens set in order, one pass through the layers, then the logits of each span's last token. */
    private static final class HostBatch implements Batch {
        private final HostForward port;
        private final BatchForward forward;
        private final int[] lastTokens; // [maxTokens] index of each span's last token in the step

        HostBatch(HostForward port, BatchForward forward) {
            this.port = port;
            this.forward = forward;
            this.lastTokens = new int[forward.maxTokens()];
        }

        @Override
        public int maxTokens() {
            return forward.maxTokens();
        }

        @Override
        public float[][] run(List<Span> spans) {
            Batch.check(spans, forward.maxTokens());
            if (spans.isEmpty()) {
                return new float[0][];
            }
            int n = 0;
            for (int s = 0; s < spans.size(); s++) {
                Span span = spans.get(s);
                if (!(span.sequence() instanceof HostSequence h) || h.port() != port) {
                    throw new IllegalArgumentException("span %d of a batch step names a sequence that %s did not start"
                            .formatted(s, port.name()));
                }
                for (int i = 0; i < span.count(); i++) {
                    int position = span.start() + i;
                    forward.set(n++, h.cache(), span.tokens()[position], position);
                }
                lastTokens[s] = n - 1;
            }
            forward.layers(n);
            return forward.logits(lastTokens, spans.size());
        }
    }

    private record HostSequence(HostForward port, LlamaForward forward, KvCache cache) implements Sequence {

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
