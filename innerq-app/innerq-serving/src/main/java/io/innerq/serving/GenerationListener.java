package io.innerq.serving;

/** Receives a generation's text as it becomes final, with the number of tokens generated so far. */
@FunctionalInterface
public interface GenerationListener {

    /**
     * @param text             text that is now final (never empty)
     * @param completionTokens tokens generated so far, this text's included
     * @return false to cancel: generation stops and its KV cache is freed at once
     */
    boolean onText(String text, int completionTokens);

    /** Checked before generation starts and between chunks of the prompt: true when the consumer is gone. */
    default boolean cancelled() {
        return false;
    }

    GenerationListener IGNORE = (text, tokens) -> true;
}
