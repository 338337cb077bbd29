package io.innerq.engine;

/** Receives generated text as it becomes final. */
@FunctionalInterface
public interface TokenSink {

    /**
     * @param text text that is now final (may be empty while a stop string or a multi-byte character is pending)
     * @return false to cancel generation
     */
    boolean accept(String text);

    /**
     * Asked between chunks of the prompt ({@link Generator#PROMPT_CHUNK} tokens), where no text is produced: true
     * stops the generation there (finish reason cancelled, nothing generated) and frees its cache.
     */
    default boolean cancelled() {
        return false;
    }

    TokenSink IGNORE = text -> true;
}
