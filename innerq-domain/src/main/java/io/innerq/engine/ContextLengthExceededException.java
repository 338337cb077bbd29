package io.innerq.engine;

/** The prompt plus the requested tokens do not fit in the model's context. */
public final class ContextLengthExceededException extends IllegalArgumentException {

    private final int promptTokens;
    private final int maxTokens;
    private final int contextLength;

    public ContextLengthExceededException(int promptTokens, int maxTokens, int contextLength) {
        super(maxTokens > 0
                ? "the prompt has %d tokens and %d more were requested, %d in all, but the context holds %d: shorten the prompt or ask for at most %d tokens"
                        .formatted(promptTokens, maxTokens, promptTokens + maxTokens, contextLength,
                                Math.max(0, contextLength - promptTokens))
                : "the prompt has %d tokens but the context holds %d: shorten the prompt"
                        .formatted(promptTokens, contextLength));
        this.promptTokens = promptTokens;
        this.maxTokens = maxTokens;
        this.contextLength = contextLength;
    }

    public int promptTokens() {
        return promptTokens;
    }

    public int maxTokens() {
        return maxTokens;
    }

    public int contextLength() {
        return contextLength;
    }
}
