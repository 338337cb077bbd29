package io.innerq.port.out;

import io.innerq.cache.KvMode;

/**
 * A model's forward pass, token in, logits out, for sequences that each own a KV cache: the whole token step behind
 * one port. {@link io.innerq.model.HostForward} composes a {@link MatVecPort} and a {@link KvCachePort}; a GPU
 * backend runs the whole step on its device. One port serves one loaded model; its sequences may run on different
 * threads at once.
 */
public interface ForwardPort {

    /**
     * Starts a sequence of up to {@code capacity} tokens with its KV cache in {@code mode}.
     *
     * @throws IllegalArgumentException when this backend cannot store {@code mode} for the model
     */
    Sequence start(int capacity, KvMode mode);

    /** A short name for logs and benchmarks, e.g. {@code "host(vector-avx2x2)"} or {@code "vulkan"}. */
    String name();

    /**
     * One sequence: its KV cache and activation buffers. Positions run in order: a prompt ({@link #prefill} in one or
     * more calls, or {@link #step}), {@link #endPrefill}, then one {@link #step} per token. Not thread-safe.
     */
    interface Sequence extends AutoCloseable {

        /**
         * Runs {@code count} prompt tokens {@code tokens[start ..]} at positions {@code start ..}.
         *
         * @return the last token's logits ({@code float[vocab]}, overwritten by the next call)
         */
        float[] prefill(int[] tokens, int start, int count);

        /**
         * Runs {@code token} at {@code position}.
         *
         * @param computeLogits false for prompt tokens whose next-token distribution is not needed
         * @return the logits ({@code float[vocab]}, overwritten by the next call), or null
         */
        float[] step(int token, int position, boolean computeLogits);

        /** Marks the end of the prompt (after its last token), before the first decode step. */
        void endPrefill(int promptLength);

        /** Tokens this sequence can hold. */
        int capacity();

        /** Bytes its KV cache holds now. */
        long kvBytes();

        /** Releases the cache and buffers. */
        @Override
        void close();
    }
}
