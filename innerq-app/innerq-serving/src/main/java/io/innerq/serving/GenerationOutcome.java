package io.innerq.serving;

import io.innerq.engine.FinishReason;
import io.innerq.engine.GenerationResult;

/**
 * How a generation ended.
 *
 * @param timedOut the generation ran past {@code spring.ai.innerq.generation-timeout} and was stopped there
 */
public record GenerationOutcome(GenerationResult result, boolean timedOut) {

    public GenerationOutcome {
        if (result == null) {
            throw new IllegalArgumentException("an outcome needs a result");
        }
    }

    /**
     * The finish reason as OpenAI and Spring AI spell it: {@code stop} (end of text or a stop string) or
     * {@code length} (the token limit, the context's end, or the time limit); {@code cancelled} when the consumer
     * went away.
     */
    public String finishReason() {
        return switch (result.finishReason()) {
            case STOP -> "stop";
            case LENGTH -> "length";
            case CANCELLED -> timedOut ? "length" : "cancelled";
        };
    }

    public boolean cancelledByConsumer() {
        return result.finishReason() == FinishReason.CANCELLED && !timedOut;
    }
}
