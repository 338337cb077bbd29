package io.innerq.serving;

import io.innerq.cache.KvMode;
import io.innerq.model.WeightCheck;

import java.time.Duration;

/**
 * How the engine runs: which backend, how many generations at once, and the limits each one is held to.
 *
 * @param backend           which hardware runs the forward pass
 * @param threads           CPU threads for all generations together; 0 for one per available core
 * @param concurrency       generations that run at once: on the CPU, in one batch on all threads; on a GPU, each in
 *                          its own slot with its own backend
 * @param defaultKvMode     the cache mode of a request that names none
 * @param kvBudgetBytes     bytes of KV cache all running generations may hold together
 * @param queueTimeout      how long a request waits for a free slot before it is turned away
 * @param generationTimeout how long one generation may run; it then ends as if it had reached its token limit
 * @param checkWeights      whether loading the model reads every weight to check that it is finite
 *                          ({@link WeightCheck#ALL}); otherwise only the norm weights are read
 */
public record EngineSettings(BackendKind backend, int threads, int concurrency, KvMode defaultKvMode, long kvBudgetBytes,
                             Duration queueTimeout, Duration generationTimeout, boolean checkWeights) {

    /** The most CPU threads (and generation slots) an engine or a command takes. */
    public static final int MAX_THREADS = 1024;

    /** Settings that check the norm weights only at load. */
    public EngineSettings(BackendKind backend, int threads, int concurrency, KvMode defaultKvMode, long kvBudgetBytes,
                          Duration queueTimeout, Duration generationTimeout) {
        this(backend, threads, concurrency, defaultKvMode, kvBudgetBytes, queueTimeout, generationTimeout, false);
    }

    public EngineSettings {
        if (backend == null) {
            throw new IllegalArgumentException("the backend must be set: auto, cpu, vulkan or scalar");
        }
        if (threads < 0 || threads > MAX_THREADS) {
            throw new IllegalArgumentException("spring.ai.innerq.threads must be between 0 and %d (0 for one per core), got %d"
                    .formatted(MAX_THREADS, threads));
        }
        if (concurrency < 1 || concurrency > MAX_THREADS) {
            throw new IllegalArgumentException("spring.ai.innerq.concurrency must be between 1 and %d, got %d"
                    .formatted(MAX_THREADS, concurrency));
        }
        if (defaultKvMode == null) {
            throw new IllegalArgumentException("a default KV cache mode must be set (spring.ai.innerq.kv.mode)");
        }
        if (kvBudgetBytes <= 0) {
            throw new IllegalArgumentException("spring.ai.innerq.kv.budget must be positive, got " + kvBudgetBytes + " bytes");
        }
        if (queueTimeout == null || queueTimeout.isNegative()) {
            throw new IllegalArgumentException("spring.ai.innerq.queue-timeout must be >= 0, got " + queueTimeout);
        }
        if (generationTimeout == null || generationTimeout.isNegative() || generationTimeout.isZero()) {
            throw new IllegalArgumentException("spring.ai.innerq.generation-timeout must be positive, got " + generationTimeout);
        }
    }

    /** How much of the weights loading reads to check them. */
    public WeightCheck weightCheck() {
        return checkWeights ? WeightCheck.ALL : WeightCheck.NORMS;
    }

    /** Threads of all slots together. */
    public int totalThreads() {
        return threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
    }

    /**
     * Threads of one GPU slot's CPU backend (the batch on the CPU has them all): the total split evenly, at least one. With {@code concurrency} at most the
     * total, slots never ask for more threads than there are, so their spinning workers do not fight for cores.
     */
    public int threadsPerSlot() {
        return Math.max(1, totalThreads() / concurrency);
    }
}
