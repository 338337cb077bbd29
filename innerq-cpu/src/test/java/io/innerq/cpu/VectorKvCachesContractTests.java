package io.innerq.cpu;

import io.innerq.cache.KvCacheContractTests;
import io.innerq.port.out.KvCachePort;

/**
 * The Vector API caches pass the contract for every mode: the reference's tolerances against fp32, and the same
 * mode's reference cache within the suite's same-mode tolerance.
 */
class VectorKvCachesContractTests extends KvCacheContractTests {

    @Override
    protected KvCachePort port() {
        return new VectorKvCaches();
    }
}
