package io.innerq.port.out;

import io.innerq.cache.KvMode;

import java.util.List;

/**
 * A model's forward pass, token in, logits out, for sequences that each own a KV cache: the whole token step behind
 * one port. {@link io.innerq.model.HostForward} composes a {@link MatVecPort} and a {@link KvCachePort}; a GPU
 * backend runs the whole step on its device. One port serves one loaded model; its sequences may run on different
 * threads at once, or together in one step ({@link #batch}: continuous batching).
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
     * A workspace that advances several of this port's sequences in one forward step, up to {@code maxTokens} tokens
     * in all. The default runs each sequence on its own, one after another ({@link Sequence#step} for a span of one
     * token, {@link Sequence#prefill} for a longer one); a backend that can read each weight once for all the step's
     * tokens overrides it.
     *
     * @throws IllegalArgumentException when {@code maxTokens} is not positive
     */
    default Batch batch(int maxTokens) {
        return new SequentialBatch(maxTokens);
    }

    /**
     * One forward step over several sequences (continuous batching): a sequence in decode contributes its next token,
     * one still reading its prompt a piece of it, so sequences of different lengths, caches and cache modes run
     * together, and each joins or leaves between two steps. One caller at a time; the sequences it runs must not be
     * used elsewhere during a call.
     */
    interface Batch {

        /** Tokens one step may hold, all spans together. */
        int maxTokens();

        /**
         * Runs every span and returns the logits of each span's last token: row {@code i} for {@code spans.get(i)}
         * ({@code [spans][vocab]}, rows overwritten by the next call). A sequence's results are those of running its
         * span alone ({@link Sequence#step} for one token, else {@link Sequence#prefill}), within the backend's
         * tolerance; its keys and values go to its own cache.
         *
         * @throws IllegalArgumentException when the spans hold more than {@link #maxTokens()} tokens, name a sequence
         *                                  twice, or name one this port did not start
         */
        float[][] run(List<Span> spans);

        /**
         * Checks what {@link #run} requires of {@code spans} that a caller can see: at most {@code maxTokens} tokens
         * in all, no sequence twice.
         */
        static void check(List<Span> spans, int maxTokens) {
            int tokens = 0;
            for (int i = 0; i < spans.size(); i++) {
                Span s = spans.get(i);
                tokens += s.count();
                for (int j = 0; j < i; j++) {
                    if (spans.get(j).sequence() == s.sequence()) {
                        throw new IllegalArgumentException(
                                "spans %d and %d of a batch step name the same sequence: give each sequence one span"
                                        .formatted(j, i));
                    }
                }
            }
            if (tokens > maxTokens) {
                throw new IllegalArgumentException("a batch step of %d spans holds %d tokens, more than its %d: run fewer"
                        .formatted(spans.size(), tokens, maxTokens));
            }
        }
    }

    /**
     * One sequence's tokens in a {@link Batch} step: {@code tokens[start .. start + count)} at positions
     * {@code start ..}, as {@link Sequence#prefill} takes them. A decode step is one token; a piece of a prompt may
     * be more.
     */
    record Span(Sequence sequence, int[] tokens, int start, int count) {
        public Span {
            if (sequence == null || tokens == null) {
                throw new IllegalArgumentException("a span needs a sequence and its tokens");
            }
            if (start < 0 || count < 1 || start > tokens.length - count) {
                throw new IllegalArgumentException("a span of %d tokens from position %d does not fit %d tokens"
                        .formatted(count, start, tokens.length));
            }
        }
    }

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
