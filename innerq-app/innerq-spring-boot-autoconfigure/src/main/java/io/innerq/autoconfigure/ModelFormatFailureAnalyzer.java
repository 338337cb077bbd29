package io.innerq.autoconfigure;

import io.innerq.gguf.GgufFormatException;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** Turns a corrupt or truncated model at startup into what is wrong and what to do, instead of a stack trace. */
final class ModelFormatFailureAnalyzer extends AbstractFailureAnalyzer<GgufFormatException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, GgufFormatException cause) {
        return new FailureAnalysis("the model file cannot be read: " + cause.getMessage(),
                "Download the model again (compare its size and checksum with the source), or point spring.ai.innerq.model at "
                        + "another .gguf file.",
                cause);
    }
}
