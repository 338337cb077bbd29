package io.innerq.autoconfigure;

import io.innerq.serving.ModelResolver.ModelNotFoundException;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** Turns a missing model at startup into what to set, instead of a stack trace. */
final class ModelNotFoundFailureAnalyzer extends AbstractFailureAnalyzer<ModelNotFoundException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, ModelNotFoundException cause) {
        return new FailureAnalysis(cause.getMessage(),
                InnerqEngineAutoConfiguration.MODEL_REMEDY + ", or put a .gguf file in a directory of "
                        + "INNERQ_MODEL_PATH, ./models, ../shared/models or ~/.cache/innerq/models; leave "
                        + InnerqEngineProperties.PREFIX + ".model unset for the embedded default model.",
                cause);
    }
}
