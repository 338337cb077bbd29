package io.innerq.engine;

/** Receives generated text as it becomes final. */
@FunctionalInterface
public interface TokenSink {

    /**
     * @param text text that is now final (may be empty while a stop string or a multi-byte character is pending)
     * @return false to cancel generation
     */
    boolean accept(String text);

    TokenSink IGNORE = text -> true;
}
