package io.innerq.app.serving;

import io.innerq.cache.KvMode;
import io.innerq.port.out.KvCache;
import io.innerq.port.out.KvCachePort;

/**
 * The KV caches of one slot, watched: how many bytes the live cache holds and how many tokens it has stored, both
 * published by the generating thread for metrics and usage counts. A slot runs one generation at a time, so it has at
 * most one live cache.
 */
final class TrackingKvCaches implements KvCachePort {

    private final KvCachePort delegate;
    private volatile Tracked live;

    TrackingKvCaches(KvCachePort delegate) {
        this.delegate = delegate;
    }

    @Override
    public KvCache allocate(CacheGeometry geometry, int capacity, KvMode mode) {
        var cache = new Tracked(delegate.allocate(geometry, capacity, mode), geometry.layers());
        live = cache;
        return cache;
    }

    /** Bytes the live cache holds, as of its last stored token; 0 when none is live. */
    long bytesInUse() {
        Tracked t = live;
        return t == null ? 0 : t.bytes;
    }

    /** Tokens stored in layer 0 of the live cache; 0 when none is live. */
    int tokensStored() {
        Tracked t = live;
        return t == null ? 0 : t.tokens;
    }

    /** Forwards every call; after the last layer's store of a token (and at the end of prefill) reads the size. */
    private final class Tracked implements KvCache {
        private final KvCache cache;
        private final int lastLayer;
        private volatile long bytes;
        private volatile int tokens;
        private boolean closed;

        Tracked(KvCache cache, int layers) {
            this.cache = cache;
            this.lastLayer = layers - 1;
            this.bytes = cache.bytesInUse();
        }

        @Override
        public void store(int layer, int position, float[] k, float[] v) {
            cache.store(layer, position, k, v);
            if (layer == 0) {
                tokens = position + 1;
            }
            if (layer == lastLayer) {
                bytes = cache.bytesInUse();
            }
        }

        @Override
        public void attend(int layer, int position, float[] q, float[] out) {
            cache.attend(layer, position, q, out);
        }

        @Override
        public void endPrefill(int promptLength) {
            cache.endPrefill(promptLength);
            bytes = cache.bytesInUse();
        }

        @Override
        public int capacity() {
            return cache.capacity();
        }

        @Override
        public long bytesInUse() {
            return cache.bytesInUse();
        }

        @Override
        public void close() {
            if (closed) {
                return;
            }
            closed = true;
            bytes = 0;
            if (live == this) {
                live = null;
            }
            cache.close();
        }
    }
}
