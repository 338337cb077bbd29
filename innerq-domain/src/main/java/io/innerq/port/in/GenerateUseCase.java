package io.innerq.port.in;

import io.innerq.engine.GenerationRequest;
import io.innerq.engine.GenerationResult;
import io.innerq.engine.TokenSink;

/** Generates text from a prompt, streaming it to a sink. */
public interface GenerateUseCase {

    /**
     * @throws io.innerq.engine.ContextLengthExceededException when the prompt plus {@code maxTokens} exceed the
     *                                                         context
     */
    GenerationResult generate(GenerationRequest request, TokenSink sink);
}
