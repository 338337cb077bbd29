package io.innerq.model;

import io.innerq.cache.ReferenceKvCaches;
import io.innerq.port.out.ForwardPort;
import io.innerq.tensor.ScalarMatVec;

/** The forward contract on the scalar reference ports. */
class ReferenceForwardTests extends ForwardContractTests {

    @Override
    protected ForwardPort forward(LlamaModel model) {
        return new HostForward(model, new ScalarMatVec(), new ReferenceKvCaches());
    }

    /** Exact: the scalar matMul is matVec per input, and every token runs the operations of a step. */
    @Override
    protected float batchedPrefillTolerance() {
        return 0f;
    }

    /** Exact, as {@link #batchedPrefillTolerance()}. */
    @Override
    protected float batchedStepTolerance() {
        return 0f;
    }
}
