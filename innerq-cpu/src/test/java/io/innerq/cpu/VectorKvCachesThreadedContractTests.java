package io.innerq.cpu;

import io.innerq.cache.KvCacheContractTests;
import io.innerq.port.out.KvCachePort;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Nested;

/**
 * The Vector API caches pass the contract with their attention split over the CPU threads (every call split, however
 * short): 2 threads, and 3, which do not divide the KV heads evenly.
 */
class VectorKvCachesThreadedContractTests {

    @Nested
    class TwoThreads extends KvCacheContractTests {
        private final CpuWorkers workers = new CpuWorkers(2);

        @Override
        protected KvCachePort port() {
            return new VectorKvCaches(new AttendThreads(workers, 0));
        }

        @AfterAll
        void stopWorkers() {
            workers.close();
        }
    }

    @Nested
    class ThreeThreads extends KvCacheContractTests {
        private final CpuWorkers workers = new CpuWorkers(3);

        @Override
        protected KvCachePort port() {
            return new VectorKvCaches(new AttendThreads(workers, 0));
        }

        @AfterAll
        void stopWorkers() {
            workers.close();
        }
    }
}
