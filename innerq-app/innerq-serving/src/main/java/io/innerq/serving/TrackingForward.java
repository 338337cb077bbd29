package io.innerq.serving;

import io.innerq.cache.KvMode;
import io.innerq.port.out.ForwardPort;

/**
 * The forward pass of one slot, watched: how many bytes the live sequence's KV cache holds and how many tokens it has
 * run, both published by the generating thread for metrics and usage counts. A slot runs one generation at a time, so
 * it has at most one live sequence.
 */
final class TrackingForward implements ForwardPort {

    private final ForwardPort delegate;
    private volatile Tracked live;

    TrackingForward(ForwardPort delegate) {
        this.delegate = delegate;
    }

    @Override
    public Sequence start(int capacity, KvMode mode) {
        var sequence = new Tracked(delegate.start(capacity, mode));
        live = sequence;
        return sequence;
    }

    @Override
    public String name() {
        return delegate.name();
    }

    /** Bytes the live sequence's cache holds, as of its last token; 0 when none is live. */
    long bytesInUse() {
        Tracked t = live;
        return t == null ? 0 : t.bytes;
    }

    /** Tokens the live sequence has run; 0 when none is live. */
    int tokensStored() {
        Tracked t = live;
        return t == null ? 0 : t.tokens;
    }

    /** Forwards every call; after each reads the cache's size. */
    private final class Tracked implements Sequence {
        private final Sequence sequence;
        private volatile long bytes;
        private volatile int tokens;
        private boolean closed;

        Tracked(Sequence sequence) {
            this.sequence = sequence;
            this.bytes = sequence.kvBytes();
        }

        @Override
        public float[] prefill(int[] tokenIds, int start, int count) {
            float[] logits = sequence.prefill(tokenIds, start, count);
            ran(start + count);
            return logits;
        }

        @Override
        public float[] step(int token, int position, boolean computeLogits) {
            float[] logits = sequence.step(token, position, computeLogits);
            ran(position + 1);
            return logits;
        }

        private void ran(int length) {
            tokens = length;
            bytes = sequence.kvBytes();
        }

        @Override
        public void endPrefill(int promptLength) {
            sequence.endPrefill(promptLength);
            bytes = sequence.kvBytes();
        }

        @Override
        public int capacity() {
            return sequence.capacity();
        }

        @Override
        public long kvBytes() {
            return sequence.kvBytes();
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
            sequence.close();
        }
    }
}
