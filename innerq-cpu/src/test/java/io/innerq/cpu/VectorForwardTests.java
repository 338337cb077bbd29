package io.innerq.cpu;

import io.innerq.model.ForwardContractTests;
import io.innerq.model.HostForward;
import io.innerq.model.LlamaModel;
import io.innerq.port.out.ForwardPort;
import org.junit.jupiter.api.AfterAll;

/** The forward contract on the CPU adapter: Vector API products on two threads, vectorized caches. */
class VectorForwardTests extends ForwardContractTests {

    private final VectorMatVec ops = new VectorMatVec(2);
    private final VectorKvCaches caches = new VectorKvCaches();

    @Override
    protected ForwardPort forward(LlamaModel model) {
        return new HostForward(model, ops, caches);
    }

    @AfterAll
    void stop() {
        ops.close();
    }
}
