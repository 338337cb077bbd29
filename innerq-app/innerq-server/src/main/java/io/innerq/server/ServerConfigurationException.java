package io.innerq.server;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** A server setting that cannot work as given; the message says which and what to set. */
final class ServerConfigurationException extends IllegalStateException {

    ServerConfigurationException(String message) {
        super(message);
    }

    /** Reports it as what is wrong and what to do, instead of a stack trace. */
    static final class Analyzer extends AbstractFailureAnalyzer<ServerConfigurationException> {
        @Override
        protected FailureAnalysis analyze(Throwable rootFailure, ServerConfigurationException cause) {
            return new FailureAnalysis(cause.getMessage(), "Change the setting as the description says.", cause);
        }
    }
}
