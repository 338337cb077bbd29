package io.innerq.app.serving;

import io.innerq.engine.GenerationRequest;

/**
 * A request checked against the model's context and the KV budget, with every figure admission needs.
 *
 * @param request      the request, with a concrete token limit (never {@link GenerationRequest#UNTIL_CONTEXT_ENDS})
 * @param promptTokens tokens of the prompt, BOS included
 * @param kvBytes      KV cache bytes the generation is charged against the budget
 */
public record PreparedGeneration(GenerationRequest request, int promptTokens, long kvBytes) {

    public PreparedGeneration {
        if (request == null || request.maxTokens() < 0) {
            throw new IllegalArgumentException("a prepared generation needs a request with a token limit");
        }
        if (promptTokens <= 0 || kvBytes < 0) {
            throw new IllegalArgumentException(
                    "invalid prepared generation: %d prompt tokens, %d KV bytes".formatted(promptTokens, kvBytes));
        }
    }

    /** Tokens of KV cache the generation allocates: the prompt plus its token limit. */
    public int capacity() {
        return promptTokens + request.maxTokens();
    }
}
