package io.innerq.serving;

import io.innerq.cache.KvMode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The engine's meters. Names as Prometheus shows them: {@code innerq_generation_active},
 * {@code innerq_generation_time_to_first_token_seconds}, {@code innerq_generation_decode_tokens_per_second},
 * {@code innerq_tokens_total{type}}, {@code innerq_generations_total{finish}}, {@code innerq_kv_used_bytes},
 * {@code innerq_kv_reserved_bytes}, {@code innerq_kv_budget_bytes}, {@code innerq_kv_bits_per_element{mode}},
 * {@code innerq_gpu_fallbacks_total} (generations moved to the CPU after a GPU failure, or while the GPU's circuit is
 * open), {@code innerq_bulkhead_available_slots}; for continuous batching {@code innerq_batch_size} (generations per
 * step), {@code innerq_batch_tokens} (tokens per step, prompt pieces included), {@code innerq_queue_length} (requests
 * waiting for a slot or for their first step) and {@code innerq_generation_time_per_output_token_seconds} (the time
 * between two tokens of one generation, a histogram).
 */
final class EngineMetrics {

    private final MeterRegistry registry;
    private final Timer timeToFirstToken;
    private final DistributionSummary decodeRate;
    private final Counter promptTokens;
    private final Counter completionTokens;
    private final Counter fallbacks;
    private final DistributionSummary batchSize;
    private final DistributionSummary batchTokens;
    private final Timer timePerOutputToken;

    EngineMetrics(MeterRegistry registry, InnerqEngine engine, int headDim) {
        this.registry = registry;
        Gauge.builder("innerq.generation.active", engine, InnerqEngine::activeGenerations)
                .description("generations running now").register(registry);
        Gauge.builder("innerq.kv.used", engine, InnerqEngine::kvBytesInUse).baseUnit("bytes")
                .description("bytes the live KV caches hold").register(registry);
        Gauge.builder("innerq.kv.reserved", engine, InnerqEngine::kvBytesReserved).baseUnit("bytes")
                .description("bytes of the KV budget charged to running generations").register(registry);
        Gauge.builder("innerq.kv.budget", engine, InnerqEngine::kvBudgetBytes).baseUnit("bytes")
                .description("innerq.kv.budget").register(registry);
        for (KvMode mode : KvMode.all()) {
            double bits;
            try {
                bits = mode.bitsPerElement(headDim);
            } catch (IllegalArgumentException e) {
                continue; // the mode cannot serve this model's head_dim
            }
            Gauge.builder("innerq.kv.bits.per.element", () -> bits).tag("mode", mode.name())
                    .description("average bits per stored K/V element of each cache mode, for this model")
                    .register(registry);
        }
        timeToFirstToken = Timer.builder("innerq.generation.time.to.first.token")
                .description("from the request to its first text, queueing and prefill included")
                .register(registry);
        decodeRate = DistributionSummary.builder("innerq.generation.decode").baseUnit("tokens.per.second")
                .description("decode speed of each generation, after its first token").register(registry);
        promptTokens = tokens("prompt");
        completionTokens = tokens("completion");
        fallbacks = Counter.builder("innerq.gpu.fallbacks").description("generations run on the CPU instead of the GPU")
                .register(registry);
        Gauge.builder("innerq.bulkhead.available.slots", engine, InnerqEngine::freeSlots)
                .description("generation slots free now (the Resilience4j bulkhead's permits)").register(registry);
        Gauge.builder("innerq.queue.length", engine, InnerqEngine::queueLength)
                .description("requests waiting for a generation slot or for their first step").register(registry);
        batchSize = DistributionSummary.builder("innerq.batch.size").baseUnit("generations")
                .description("generations in one forward step").register(registry);
        batchTokens = DistributionSummary.builder("innerq.batch.tokens").baseUnit("tokens")
                .description("tokens in one forward step: one per decoding generation, plus pieces of prompts")
                .register(registry);
        timePerOutputToken = Timer.builder("innerq.generation.time.per.output.token")
                .description("time between two consecutive tokens of one generation")
                .publishPercentileHistogram().minimumExpectedValue(Duration.ofNanos(100_000))
                .maximumExpectedValue(Duration.ofSeconds(10)).register(registry);
    }

    void batchStep(int generations, int tokens) {
        batchSize.record(generations);
        batchTokens.record(tokens);
    }

    void timePerOutputToken(long nanos) {
        timePerOutputToken.record(nanos, TimeUnit.NANOSECONDS);
    }

    void fallback() {
        fallbacks.increment();
    }

    double fallbackCount() {
        return fallbacks.count();
    }

    private Counter tokens(String type) {
        return Counter.builder("innerq.tokens").tag("type", type).description("tokens read and generated")
                .register(registry);
    }

    void firstToken(long nanosSinceRequest) {
        timeToFirstToken.record(nanosSinceRequest, TimeUnit.NANOSECONDS);
    }

    void finished(GenerationOutcome outcome) {
        var r = outcome.result();
        promptTokens.increment(r.promptTokens());
        completionTokens.increment(r.completionTokens());
        if (r.completionTokens() > 1) {
            decodeRate.record(r.decodeTokensPerSecond());
        }
        String finish = outcome.timedOut() ? "timeout" : outcome.finishReason();
        generations(finish).increment();
    }

    void failed() {
        generations("error").increment();
    }

    private Counter generations(String finish) {
        return Counter.builder("innerq.generations").tag("finish", finish)
                .description("generations by how they ended").register(registry);
    }
}

