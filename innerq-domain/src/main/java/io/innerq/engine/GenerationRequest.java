package io.innerq.engine;

import io.innerq.cache.KvMode;
import io.innerq.sampling.SamplingParams;

import java.util.List;

/**
 * What to generate.
 *
 * @param prompt       text to complete, fed as is (apply a chat template before)
 * @param maxTokens    tokens to generate at most; {@link #UNTIL_CONTEXT_ENDS} for as many as the context allows
 * @param stopStrings  generation ends before the first of these appears in the output (which then excludes it)
 * @param parseSpecial recognize special-token text such as {@code <|eot_id|>} in the prompt
 * @param kvMode       how the sequence's KV cache is stored
 */
public record GenerationRequest(String prompt, int maxTokens, SamplingParams sampling, List<String> stopStrings,
                                boolean addBos, boolean parseSpecial, KvMode kvMode) {

    public static final int UNTIL_CONTEXT_ENDS = -1;

    public GenerationRequest {
        if (prompt == null) {
            throw new IllegalArgumentException("prompt must not be null");
        }
        if (maxTokens < 0 && maxTokens != UNTIL_CONTEXT_ENDS) {
            throw new IllegalArgumentException("max tokens must be >= 0, got " + maxTokens);
        }
        if (sampling == null) {
            throw new IllegalArgumentException("sampling parameters must not be null");
        }
        if (kvMode == null) {
            throw new IllegalArgumentException("KV cache mode must not be null");
        }
        stopStrings = List.copyOf(stopStrings);
        for (String s : stopStrings) {
            if (s.isEmpty()) {
                throw new IllegalArgumentException("stop strings must not be empty");
            }
        }
    }

    public static GenerationRequest of(String prompt, int maxTokens, SamplingParams sampling) {
        return new GenerationRequest(prompt, maxTokens, sampling, List.of(), true, true, KvMode.FP32);
    }

    public GenerationRequest withKvMode(KvMode mode) {
        return new GenerationRequest(prompt, maxTokens, sampling, stopStrings, addBos, parseSpecial, mode);
    }

    public GenerationRequest withStopStrings(List<String> stops) {
        return new GenerationRequest(prompt, maxTokens, sampling, stops, addBos, parseSpecial, kvMode);
    }
}
