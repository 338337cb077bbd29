package io.innerq.app.autoconfigure;

import io.innerq.app.serving.EngineSettings;
import io.innerq.cache.KvMode;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

import java.time.Duration;

/**
 * The engine, under {@code innerq.*}.
 *
 * @param model             a .gguf path or a model name looked up like the CLI's {@code --model}; unset for the first
 *                          model found in the search path
 * @param backend           {@code auto} (the CPU for now), {@code cpu} or {@code scalar}
 * @param threads           CPU threads for all generations together; 0 for one per core
 * @param concurrency       generations that run at once; the threads are split between them
 * @param kv                the KV cache: default mode and memory budget
 * @param queueTimeout      how long a request waits for a free generation slot before a 429
 * @param generationTimeout how long one generation may run before it is stopped (finish reason {@code length})
 */
@ConfigurationProperties("innerq")
public record InnerqEngineProperties(
        String model,
        @DefaultValue("auto") String backend,
        @DefaultValue("0") int threads,
        @DefaultValue("1") int concurrency,
        @DefaultValue Kv kv,
        @DefaultValue("30s") Duration queueTimeout,
        @DefaultValue("10m") Duration generationTimeout) {

    /**
     * @param mode   the cache mode of requests that name none ({@code innerq-small}, {@code fp16}, ...)
     * @param budget bytes of KV cache all running generations may hold together
     */
    public record Kv(@DefaultValue("innerq-small") String mode, @DefaultValue("1GB") DataSize budget) {
    }

    EngineSettings toSettings() {
        KvMode mode;
        try {
            mode = KvMode.parse(kv.mode());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("innerq.kv.mode: " + e.getMessage(), e);
        }
        return new EngineSettings(backend, threads, concurrency, mode, kv.budget().toBytes(), queueTimeout,
                generationTimeout);
    }
}
