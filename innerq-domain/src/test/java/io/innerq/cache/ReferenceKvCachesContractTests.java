package io.innerq.cache;

import io.innerq.port.out.KvCachePort;

/** The reference port passes the contract for every mode. */
class ReferenceKvCachesContractTests extends KvCacheContractTests {

    @Override
    protected KvCachePort port() {
        return new ReferenceKvCaches();
    }
}
