package io.innerq.engine;

/**
 * The outcome of a generation.
 *
 * @param text             the generated text (without the prompt and without a matched stop string)
 * @param prefillNanos     time to run the prompt through the model
 * @param decodeNanos      time for the generated tokens after the first
 */
public record GenerationResult(String text, int promptTokens, int completionTokens, FinishReason finishReason,
                               long prefillNanos, long decodeNanos) {

    /** Generated tokens per second after the first (the first comes out of prefill). */
    public double decodeTokensPerSecond() {
        return completionTokens > 1 && decodeNanos > 0 ? (completionTokens - 1) * 1e9 / decodeNanos : 0;
    }
}
