package io.innerq.serving;

/**
 * Receives a generation's text as it becomes final, with the number of tokens generated so far, on the thread that
 * runs the generation ({@link InnerqEngine#run}); the generation waits for each answer before its next token.
 */
@FunctionalInterface
public interface GenerationListener {

    /**
     * @param text             text that is now final (never empty)
     * @param completionTokens tokens generated so far, this text's included
     * @return false to cancel: generation stops and its KV cache is freed at once
     */
    boolean onText(String text, int completionTokens);

    /**
     * Checked before generation starts and between pieces of the prompt: true when the consumer is gone. On the CPU
     * the pieces run on the engine's batch thread, which calls this there: it must answer at once, without blocking.
     */
    default boolean cancelled() {
        return false;
    }

    GenerationListener IGNORE = (text, tokens) -> true;
}
