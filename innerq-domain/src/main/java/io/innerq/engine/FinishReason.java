package io.innerq.engine;

/** Why generation ended. */
public enum FinishReason {
    /** An end-of-generation token or a stop string. */
    STOP,
    /** The token limit or the context's end. */
    LENGTH,
    /** The consumer asked to stop. */
    CANCELLED
}
