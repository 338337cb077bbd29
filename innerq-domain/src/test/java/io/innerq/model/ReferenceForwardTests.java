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
}
