package io.innerq.autoconfigure;

import io.innerq.cache.KvMode;
import io.innerq.serving.BackendKind;
import io.innerq.serving.EngineSettings;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

import java.time.Duration;

/**
 * The engine, under {@code spring.ai.innerq.*}.
 *
 * @param model             a .gguf path, or a model name looked up in the model search path; unset for the first
 *                          model found there, else the embedded default model (stories260K)
 * @param backend           {@code auto} (a Vulkan GPU when one is found and innerq-vulkan is on the class path, else
 *                          the CPU), {@code cpu}, {@code vulkan} or {@code scalar}
 * @param threads           CPU threads for all generations together; 0 for one per core
 * @param concurrency       generations that run at once; the threads are split between them
 * @param kv                the KV cache: default mode and memory budget
 * @param queueTimeout      how long a request waits for a free generation slot before it is turned away
 * @param generationTimeout how long one generation may run before it is stopped (finish reason {@code length})
 * @param checkWeights      read every weight of the model at load and refuse it if one is NaN or infinite (the
 *                          norm weights are always checked); the whole file is read, seconds per gigabyte
 */
@ConfigurationProperties(InnerqEngineProperties.PREFIX)
public record InnerqEngineProperties(
        String model,
        @DefaultValue("auto") BackendKind backend,
        @DefaultValue("0") int threads,
        @DefaultValue("1") int concurrency,
        @DefaultValue Kv kv,
        @DefaultValue("30s") Duration queueTimeout,
        @DefaultValue("10m") Duration generationTimeout,
        @DefaultValue("false") boolean checkWeights) {

    public static final String PREFIX = "spring.ai.innerq";

    /**
     * @param mode   the cache mode of requests that name none ({@code innerq-small}, {@code fp16}, ...)
     * @param budget bytes of KV cache all running generations may hold together
     */
    public record Kv(@DefaultValue("innerq-small") String mode, @DefaultValue("1GB") DataSize budget) {
    }

    /** The engine settings these properties describe; an impossible value fails here, with its property. */
    public EngineSettings toSettings() {
        KvMode mode;
        try {
            mode = KvMode.parse(kv.mode());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(PREFIX + ".kv.mode: " + e.getMessage(), e);
        }
        return new EngineSettings(backend, threads, concurrency, mode, kv.budget().toBytes(), queueTimeout,
                generationTimeout, checkWeights);
    }
}
