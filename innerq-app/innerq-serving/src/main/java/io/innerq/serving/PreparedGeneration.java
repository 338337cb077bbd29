package io.innerq.serving;

import io.innerq.engine.GenerationRequest;

/**
 * A request checked against the model's context and the KV budget, with every figure admission needs.
 *
 * @param request the request, with a concrete token limit (never {@link GenerationRequest#UNTIL_CONTEXT_ENDS})
 * @param prompt  the prompt's token ids, BOS included: tokenized once, here
 * @param kvBytes KV cache bytes the generation is charged against the budget
 */
public record PreparedGeneration(GenerationRequest request, int[] prompt, long kvBytes) {

    public PreparedGeneration {
        if (request == null || request.maxTokens() < 0) {
            throw new IllegalArgumentException("a prepared generation needs a request with a token limit");
        }
        if (prompt == null || prompt.length == 0 || kvBytes < 0) {
            throw new IllegalArgumentException("invalid prepared generation: %s prompt tokens, %d KV bytes"
                    .formatted(prompt == null ? "no" : prompt.length, kvBytes));
        }
    }

    /** Tokens of the prompt, BOS included. */
    public int promptTokens() {
        return prompt.length;
    }

    /** Tokens of KV cache the generation allocates: the prompt plus its token limit. */
    public int capacity() {
        return prompt.length + request.maxTokens();
    }
}
