package io.innerq.engine;

import io.innerq.port.out.ForwardPort;
import io.innerq.sampling.Sampler;
import io.innerq.tokenizer.TokenDecoder;
import io.innerq.tokenizer.Tokenizer;

/**
 * One generation between forward steps: its sequence (KV cache), its tokens, sampler, decoder and stop strings. Whoever
 * drives it runs the tokens it asks for ({@link #nextPosition}, {@link #nextCount}), on its sequence alone or in a
 * batch with others, and hands back the logits ({@link #advance}); text it produces waits for the consumer's verdict
 * ({@link #pendingText}, {@link #delivered}), so the consumer may answer on another thread. {@link Generator#generate}
 * drives one on the calling thread; a scheduler drives many in one step each. The states run: prompt (one or more
 * steps), then per token: decode step, text (when the decoder has some), until an end of generation, a stop string,
 * the token limit or a cancel; then the tail (text held back) and done. Not thread-safe: one driver.
 */
public final class Generation implements AutoCloseable {

    private final String modelName;
    private final Tokenizer tokenizer;
    private final ForwardPort.Sequence sequence;
    private final int[] tokens;      // [capacity] the prompt, then the generated tokens
    private final int promptLength;
    private final int maxTokens;
    private final Sampler sampler;
    private final StopStringMatcher stops;
    private final TokenDecoder decoder;
    private final long startNanos;

    private int prompted;            // prompt tokens run so far
    private int length;              // valid tokens in `tokens`
    private int generated;
    private String pending;          // text waiting for the consumer's verdict, or null
    private FinishReason ending;     // set once the generation has decided to end (the tail may still be pending)
    private long prefillEndNanos;    // valid once prefillEnded
    private boolean prefillEnded;
    private GenerationResult result; // set when done
    private boolean closed;

    Generation(String modelName, Tokenizer tokenizer, ForwardPort.Sequence sequence, int[] prompt, int maxTokens,
               Sampler sampler, StopStringMatcher stops, TokenDecoder decoder) {
        this.modelName = modelName;
        this.tokenizer = tokenizer;
        this.sequence = sequence;
        this.tokens = new int[prompt.length + maxTokens];
        System.arraycopy(prompt, 0, tokens, 0, prompt.length);
        this.promptLength = prompt.length;
        this.maxTokens = maxTokens;
        this.sampler = sampler;
        this.stops = stops;
        this.decoder = decoder;
        this.length = prompt.length;
        for (int t : prompt) {
            decoder.next(t); // so the decoder knows what precedes the first generated token
        }
        this.startNanos = System.nanoTime();
    }

    /** Refuses logits with a NaN or infinite value: no token can be sampled from them. */
    private void requireFinite(float[] logits, int position) {
        for (int i = 0; i < tokenizer.vocabularySize(); i++) {
            if (!Float.isFinite(logits[i])) {
                throw new NonFiniteLogitsException(modelName, position, i, logits[i]);
            }
        }
    }

    /** Whether the generation has ended: {@link #result()} is ready. */
    public boolean done() {
        return result != null;
    }

    /** Whether the next step runs a piece of the prompt (not yet a generated token). */
    public boolean prompting() {
        return prompted < promptLength;
    }

    /** Whether a step is what the generation waits for: neither done nor waiting for a verdict on its text. */
    public boolean wantsStep() {
        return result == null && pending == null;
    }

    /** The sequence the steps run on. */
    public ForwardPort.Sequence sequence() {
        return sequence;
    }

    /** The tokens so far, prompt first, as {@link ForwardPort.Span} takes them ({@code [capacity]}, prefix valid). */
    public int[] tokens() {
        return tokens;
    }

    /** Position of the first token the next step runs. */
    public int nextPosition() {
        return prompting() ? prompted : length - 1;
    }

    /** Tokens the next step runs, at most {@code limit}: the rest of the prompt, or the last generated token. */
    public int nextCount(int limit) {
        if (!wantsStep()) {
            throw new IllegalStateException("this generation waits for " + (done() ? "nothing: it is done"
                    : "the verdict on its text") + ", not for a step");
        }
        return prompting() ? Math.min(limit, promptLength - prompted) : 1;
    }

    /**
     * Takes the logits of a step that ran {@code count} tokens from {@link #nextPosition}: after the prompt's last
     * piece, ends the prefill; after the prompt or a decode step, samples the next token.
     *
     * @param logits the last token's logits ({@code float[vocab]}; the repetition penalty may change it)
     */
    public void advance(int count, float[] logits) {
        int most = nextCount(Integer.MAX_VALUE);
        if (count < 1 || count > most) {
            throw new IllegalArgumentException("this generation's next step runs 1 to %d tokens, not %d"
                    .formatted(most, count));
        }
        if (prompting()) {
            prompted += count;
            if (prompting()) {
                return;
            }
            sequence.endPrefill(promptLength);
            prefillEndNanos = System.nanoTime();
            prefillEnded = true;
        }
        if (generated >= maxTokens) {
            end(FinishReason.LENGTH);
            return;
        }
        requireFinite(logits, length - 1);
        int next = sampler.sample(logits, tokens, length);
        if (tokenizer.isEndOfGeneration(next)) {
            end(FinishReason.STOP);
            return;
        }
        generated++;
        tokens[length++] = next;
        String out = stops.add(decoder.next(next));
        if (!out.isEmpty()) {
            pending = out;
        } else {
            afterText();
        }
    }

    /** Text waiting for the consumer's verdict ({@link #delivered}): a token's final text, or the tail; else null. */
    public String pendingText() {
        return pending;
    }

    /** Tokens generated so far, the pending text's included. */
    public int completionTokens() {
        return generated;
    }

    /**
     * The consumer's verdict on {@link #pendingText}: false cancels (no tail is sent). A verdict on the tail ends the
     * generation either way.
     */
    public void delivered(boolean accepted) {
        if (pending == null) {
            throw new IllegalStateException("no text is waiting for a verdict");
        }
        pending = null;
        if (ending != null) {
            finish(); // the tail was delivered
        } else if (!accepted) {
            cancel();
        } else {
            afterText();
        }
    }

    private void afterText() {
        if (stops.stopped()) {
            end(FinishReason.STOP);
        } else if (generated >= maxTokens) {
            end(FinishReason.LENGTH);
        }
    }

    /** Ends with {@code reason}: the text held back becomes the pending tail, if there is any. */
    private void end(FinishReason reason) {
        ending = reason;
        String tail = stops.add(decoder.finish());
        tail += stops.flush();
        if (tail.isEmpty()) {
            finish();
        } else {
            pending = tail;
        }
    }

    /** Ends the generation now as cancelled, unless it is done: nothing more is sent. */
    public void cancel() {
        if (result == null) {
            pending = null;
            ending = FinishReason.CANCELLED;
            finish();
        }
    }

    private void finish() {
        long end = System.nanoTime();
        long prefillEnd = prefillEnded ? prefillEndNanos : end;
        result = new GenerationResult(stops.emittedText(), promptLength, generated, ending, prefillEnd - startNanos,
                end - prefillEnd);
    }

    /** How the generation ended. */
    public GenerationResult result() {
        if (result == null) {
            throw new IllegalStateException("the generation has not ended");
        }
        return result;
    }

    /**
     * Runs the next step on this generation's sequence alone: at most {@code promptChunk} prompt tokens, or the last
     * generated token.
     */
    public void runAlone(int promptChunk) {
        int count = nextCount(promptChunk);
        int position = nextPosition();
        float[] logits = prompting()
                ? sequence.prefill(tokens, position, count)
                : sequence.step(tokens[position], position, true);
        advance(count, logits);
    }

    /** Releases the sequence (its KV cache); a generation that is not done is cancelled. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            cancel();
            sequence.close();
        }
    }
}
