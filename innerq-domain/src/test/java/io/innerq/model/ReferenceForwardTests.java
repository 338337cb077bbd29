package io.innerq.model;

import io.innerq.cache.ReferenceKvCaches;
import io.innerq.port.out.KvCachePort;
import io.innerq.port.out.MatVecPort;
import io.innerq.tensor.ScalarMatVec;

/** The forward contract on the scalar reference ports. */
class ReferenceForwardTests extends ForwardContractTests {

    @Override
    protected MatVecPort ops() {
        return new ScalarMatVec();
    }

    @Override
    protected KvCachePort caches() {
        return new ReferenceKvCaches();
    }
}
