package io.innerq.serving;

import io.innerq.cache.KvMode;
import io.innerq.engine.GenerationRequest;
import io.innerq.sampling.SamplingParams;
import io.innerq.testing.TestModels;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Admission, the KV budget, cancellation and the time limit, on the real stories260K model without Spring. */
class InnerqEngineTests {

    private static final long MIB = 1024 * 1024;

    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private InnerqEngine engine;

    private InnerqEngine open(int concurrency, long budget, Duration queueTimeout, Duration generationTimeout)
            throws IOException {
        engine = InnerqEngine.opener(new ModelSource.File(TestModels.stories260K()), new EngineSettings(
                BackendKind.AUTO, 2, concurrency, KvMode.parse("innerq-small"), budget, queueTimeout,
                generationTimeout)).meters(meters).open();
        return engine;
    }

    @AfterEach
    void close() {
        if (engine != null) {
            engine.close();
        }
    }

    private static GenerationRequest greedy(int maxTokens, KvMode mode) {
        return new GenerationRequest("Once upon a time", maxTokens, SamplingParams.greedy(), List.of(), true, true,
                mode);
    }

    /** A request that does not end early: sampled at a high temperature, with a fixed seed. */
    private static GenerationRequest long_(int maxTokens) {
        return new GenerationRequest("Once upon a time", maxTokens, SamplingParams.defaults(7).withTemperature(1.5f),
                List.of(), true, true, KvMode.FP32);
    }

    private double finished(String finish) {
        var counter = meters.find("innerq.generations").tag("finish", finish).counter();
        return counter == null ? 0 : counter.count();
    }

    @Test
    void aGenerationHoldsItsCacheWhileItRunsAndFreesItAfter() throws IOException {
        open(1, 64 * MIB, Duration.ofSeconds(1), Duration.ofMinutes(1));
        var seen = new AtomicLong();
        var prepared = engine.prepare(greedy(30, KvMode.FP32));
        GenerationOutcome outcome = engine.generate(prepared, (text, tokens) -> {
            seen.set(Math.max(seen.get(), engine.kvBytesInUse()));
            assertThat(engine.activeGenerations()).isEqualTo(1);
            assertThat(engine.kvBytesReserved()).isEqualTo(prepared.kvBytes());
            return true;
        });
        assertThat(outcome.result().completionTokens()).isEqualTo(30);
        // fp32: 2 (K and V) x 5 layers x 32 (kvDim) x 4 bytes per token, for 5 prompt + 29 decoded tokens stored
        assertThat(seen.get()).isEqualTo(2L * 5 * 32 * 4 * (5 + 29));
        assertThat(engine.kvBytesInUse()).isZero();
        assertThat(engine.kvBytesReserved()).isZero();
        assertThat(engine.activeGenerations()).isZero();
        assertThat(finished("length")).isEqualTo(1);
        assertThat(meters.find("innerq.generation.time.to.first.token").timer().count()).isEqualTo(1);
        assertThat(meters.find("innerq.tokens").tag("type", "completion").counter().count()).isEqualTo(30);
    }

    @Test
    void cancellingAStreamStopsTheGenerationAndFreesItsCacheAtOnce() throws Exception {
        open(1, 64 * MIB, Duration.ofSeconds(1), Duration.ofMinutes(1));
        var events = engine.stream(engine.prepare(long_(1500))).take(3).collectList().block();
        assertThat(events).hasSize(3).allMatch(e -> e instanceof GenerationEvent.Delta);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (engine.activeGenerations() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(engine.activeGenerations()).isZero();
        assertThat(engine.kvBytesInUse()).isZero();
        assertThat(engine.kvBytesReserved()).isZero();
        assertThat(finished("cancelled")).isEqualTo(1);
        assertThat(meters.find("innerq.tokens").tag("type", "completion").counter().count()).isLessThan(100);
    }

    @Test
    void aListenerThatReturnsFalseCancels() throws IOException {
        open(1, 64 * MIB, Duration.ofSeconds(1), Duration.ofMinutes(1));
        GenerationOutcome o = engine.generate(engine.prepare(long_(500)), (text, tokens) -> tokens < 4);
        assertThat(o.result().completionTokens()).isEqualTo(4);
        assertThat(o.finishReason()).isEqualTo("cancelled");
        assertThat(o.cancelledByConsumer()).isTrue();
        assertThat(engine.kvBytesInUse()).isZero();
    }

    @Test
    void aRequestWhoseCacheCanNeverFitIsRefusedWithTheNumbers() throws IOException {
        open(1, MIB, Duration.ofSeconds(1), Duration.ofMinutes(1));
        // fp32 for 2000 tokens: 2 x 5 x 32 x 4 x 2000 = 2.4 MiB
        assertThatThrownBy(() -> engine.prepare(greedy(1995, KvMode.FP32)))
                .isInstanceOfSatisfying(KvBudgetExceededException.class, e -> {
                    assertThat(e.retryable()).isFalse();
                    assertThat(e.neededBytes()).isEqualTo(2L * 5 * 32 * 4 * 2000);
                })
                .hasMessageContaining("needs 2.4 MiB (fp32, 5 prompt + 1995 new tokens)")
                .hasMessageContaining("spring.ai.innerq.kv.budget is 1.0 MiB")
                .hasMessageContaining("ask for at most 814 tokens");
        // the same request fits in the quantized default mode
        assertThat(engine.prepare(greedy(1995, KvMode.parse("innerq-small"))).kvBytes()).isLessThanOrEqualTo(MIB);
    }

    @Test
    void withoutATokenLimitARequestGetsWhatTheContextAndBudgetAllow() throws IOException {
        open(1, MIB, Duration.ofSeconds(1), Duration.ofMinutes(1));
        var fp32 = engine.prepare(greedy(GenerationRequest.UNTIL_CONTEXT_ENDS, KvMode.FP32));
        assertThat(fp32.capacity()).isEqualTo(819); // 819 x 1280 bytes <= 1 MiB < 820 x 1280
        var small = engine.prepare(greedy(GenerationRequest.UNTIL_CONTEXT_ENDS, KvMode.parse("innerq-small")));
        assertThat(small.capacity()).isEqualTo(2048); // the whole context
    }

    @Test
    void whenEverySlotIsBusyARequestWaitsThenIsTurnedAway() throws IOException {
        open(1, 64 * MIB, Duration.ofMillis(50), Duration.ofMinutes(1));
        var prepared = engine.prepare(greedy(10, KvMode.FP32));
        try (var held = engine.admit(prepared)) {
            assertThatThrownBy(() -> engine.admit(prepared)).isInstanceOf(EngineBusyException.class)
                    .hasMessageContaining("all 1 generation slot stayed busy for PT0.05S (spring.ai.innerq.queue-timeout)");
        }
        assertThat(engine.generate(prepared, GenerationListener.IGNORE).result().completionTokens()).isEqualTo(10);
    }

    @Test
    void aRequestThatDoesNotFitNextToRunningOnesIsRefusedAsRetryable() throws IOException {
        open(2, MIB, Duration.ofSeconds(1), Duration.ofMinutes(1));
        var big = engine.prepare(greedy(600, KvMode.FP32)); // 605 x 1280 bytes: over half the budget
        try (var held = engine.admit(big)) {
            assertThatThrownBy(() -> engine.admit(big))
                    .isInstanceOfSatisfying(KvBudgetExceededException.class, e -> assertThat(e.retryable()).isTrue())
                    .hasMessageContaining("is reserved by 1 running generation").hasMessageContaining("retry later");
            assertThat(engine.activeGenerations()).isEqualTo(1);
        }
        assertThat(engine.kvBytesReserved()).isZero();
    }

    @Test
    void slotsRunGenerationsConcurrentlyWithTheSameResults() throws Exception {
        open(2, 64 * MIB, Duration.ofSeconds(30), Duration.ofMinutes(1));
        String alone = engine.generate(engine.prepare(greedy(40, KvMode.FP32)), GenerationListener.IGNORE)
                .result().text();
        var start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<String>> results = new java.util.ArrayList<>();
            for (int i = 0; i < 4; i++) {
                results.add(pool.submit(() -> {
                    start.await();
                    return engine.generate(engine.prepare(greedy(40, KvMode.FP32)), GenerationListener.IGNORE)
                            .result().text();
                }));
            }
            start.countDown();
            for (Future<String> f : results) {
                assertThat(f.get(60, TimeUnit.SECONDS)).isEqualTo(alone);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(engine.activeGenerations()).isZero();
    }

    @Test
    void aGenerationPastItsTimeLimitEndsAsLength() throws IOException {
        open(1, 64 * MIB, Duration.ofSeconds(1), Duration.ofNanos(1));
        GenerationOutcome o = engine.generate(engine.prepare(long_(500)), GenerationListener.IGNORE);
        assertThat(o.timedOut()).isTrue();
        assertThat(o.finishReason()).isEqualTo("length");
        assertThat(o.result().completionTokens()).as("the limit is checked before the prompt runs, too").isZero();
        assertThat(finished("timeout")).isEqualTo(1);
    }

    @Test
    void aConsumerThatLeavesDuringALongPromptStopsItAndFreesTheCache() throws IOException {
        open(1, 64 * MIB, Duration.ofSeconds(1), Duration.ofMinutes(1));
        String prompt = "Once upon a time, there was a little girl named Lily. ".repeat(60);
        var request = new GenerationRequest(prompt, 10, SamplingParams.greedy(), List.of(), true, true, KvMode.FP32);
        var checks = new java.util.concurrent.atomic.AtomicInteger();
        GenerationOutcome outcome = engine.generate(engine.prepare(request), new GenerationListener() {
            @Override
            public boolean onText(String text, int completionTokens) {
                throw new AssertionError("no text may come from a cancelled prompt");
            }

            @Override
            public boolean cancelled() {
                return checks.incrementAndGet() > 2; // the check before the start, then the first prompt chunk
            }
        });
        assertThat(outcome.result().finishReason()).isEqualTo(io.innerq.engine.FinishReason.CANCELLED);
        assertThat(outcome.result().completionTokens()).isZero();
        assertThat(engine.kvBytesInUse()).isZero();
        assertThat(engine.kvBytesReserved()).isZero();
        assertThat(engine.activeGenerations()).isZero();
    }
}
