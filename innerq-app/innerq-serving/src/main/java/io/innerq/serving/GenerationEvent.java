package io.innerq.serving;

/** What a streamed generation emits: text deltas, then one {@link Finished}. */
public sealed interface GenerationEvent {

    /**
     * @param completionTokens tokens generated so far, this delta's included
     */
    record Delta(String text, int promptTokens, int completionTokens) implements GenerationEvent {
    }

    record Finished(GenerationOutcome outcome) implements GenerationEvent {
    }
}
