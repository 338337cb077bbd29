package io.innerq.serving;

/** Every generation slot stayed busy for the whole queue timeout. */
public final class EngineBusyException extends RuntimeException {

    EngineBusyException(String message) {
        super(message);
    }
}
