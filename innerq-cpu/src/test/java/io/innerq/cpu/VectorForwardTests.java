package io.innerq.cpu;

import io.innerq.model.ForwardContractTests;
import io.innerq.port.out.KvCachePort;
import io.innerq.port.out.MatVecPort;
import org.junit.jupiter.api.AfterAll;

/** The forward contract on the CPU adapter: Vector API products on two threads, vectorized caches. */
class VectorForwardTests extends ForwardContractTests {

    private final VectorMatVec ops = new VectorMatVec(2);
    private final VectorKvCaches caches = new VectorKvCaches();

    @Override
    protected MatVecPort ops() {
        return ops;
    }

    @Override
    protected KvCachePort caches() {
        return caches;
    }

    @AfterAll
    void stop() {
        ops.close();
    }
}
