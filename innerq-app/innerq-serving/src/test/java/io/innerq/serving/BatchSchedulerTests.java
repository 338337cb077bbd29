package io.innerq.serving;

import io.innerq.cache.KvMode;
import io.innerq.engine.FinishReason;
import io.innerq.engine.GenerationRequest;
import io.innerq.model.LlamaForward;
import io.innerq.sampling.SamplingParams;
import io.innerq.testing.TestModels;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * Continuous batching on the CPU backend (two threads): generations of different prompt lengths and token limits,
 * joining and leaving while others run, give the text each gives alone in every cache mode; one consumer's
 * cancellation, slowness or time limit touches only its own generation; a long prompt is read in pieces beside the
 * others' tokens.
 */
class BatchSchedulerTests {

    private static final long MIB = 1024 * 1024;

    /** Prompts of 5, 14, 42 and 171 tokens (the 512-piece tokenizer), with token limits that end them apart. */
    private static final List<String> PROMPTS = List.of(
            "Once upon a time",
            "The cat sat on the mat and looked",
            "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, "
                    + "she saw a big ball.",
            "Once upon a time, there was a little boy named Tim. Tim had a big, red ball. He liked to play with his "
                    + "ball every day. One day, Tim went to the park with his mom. ".repeat(4) + "Then");
    private static final List<Integer> LIMITS = List.of(60, 40, 33, 12);

    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private InnerqEngine engine;

    private InnerqEngine open(Path model, int concurrency, Duration generationTimeout) throws IOException {
        engine = InnerqEngine.opener(new ModelSource.File(model), new EngineSettings(BackendKind.CPU, 2, concurrency,
                KvMode.FP32, 256 * MIB, Duration.ofSeconds(30), generationTimeout)).meters(meters).open();
        return engine;
    }

    @AfterEach
    void close() {
        if (engine != null) {
            engine.close();
        }
    }

    private static GenerationRequest greedy(String prompt, int maxTokens, KvMode mode) {
        return new GenerationRequest(prompt, maxTokens, SamplingParams.greedy(), List.of(), true, true, mode);
    }

    private String alone(String prompt, int maxTokens, KvMode mode) {
        return engine.generate(engine.prepare(greedy(prompt, maxTokens, mode)), GenerationListener.IGNORE)
                .result().text();
    }

    private double largestBatch() {
        return meters.find("innerq.batch.size").summary().max();
    }

    /**
     * Every prompt alone, then all of them at once: each starts when the one before has sent its first text (it joins
     * while that one decodes) and waits at its second text until all four are there, so that all four decode
     * together; each gives its text alone.
     */
    private void batchedTextEqualsTextAlone(KvMode mode) throws Exception {
        var expected = new ArrayList<String>();
        for (int i = 0; i < PROMPTS.size(); i++) {
            expected.add(alone(PROMPTS.get(i), LIMITS.get(i), mode));
        }
        assertThat(largestBatch()).as("alone, one generation per step").isEqualTo(1);
        int n = PROMPTS.size();
        var started = new ArrayList<CountDownLatch>();
        for (int i = 0; i <= n; i++) {
            started.add(new CountDownLatch(1));
        }
        started.getFirst().countDown();
        var allThere = new CyclicBarrier(n);
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            var results = new ArrayList<Future<GenerationOutcome>>();
            for (int i = 0; i < n; i++) {
                int index = i;
                var prepared = engine.prepare(greedy(PROMPTS.get(i), LIMITS.get(i), mode));
                results.add(pool.submit(() -> {
                    started.get(index).await();
                    var texts = new AtomicInteger();
                    try {
                        return engine.generate(prepared, (text, tokens) -> {
                            int t = texts.incrementAndGet();
                            if (t == 1) {
                                started.get(index + 1).countDown(); // the next joins while this one decodes
                            } else if (t == 2) {
                                await(allThere);
                            }
                            return true;
                        });
                    } finally {
                        started.get(index + 1).countDown();
                    }
                }));
            }
            var tokens = new ArrayList<Integer>();
            for (int i = 0; i < n; i++) {
                GenerationOutcome o = results.get(i).get(120, TimeUnit.SECONDS);
                assertThat(o.result().text()).as("prompt %d (%d tokens), %s", i,
                        o.result().promptTokens(), mode.name()).isEqualTo(expected.get(i));
                tokens.add(o.result().completionTokens());
            }
            assertThat(allThere.isBroken()).as("all %d met at their second text", n).isFalse();
            assertThat(largestBatch()).as("generations in the fullest step, %s; tokens generated %s", mode.name(),
                    tokens).isGreaterThanOrEqualTo(2);
        } finally {
            pool.shutdownNow();
        }
        assertIdle();
    }

    private static void await(CyclicBarrier barrier) {
        try {
            barrier.await(60, TimeUnit.SECONDS);
        } catch (InterruptedException | BrokenBarrierException | TimeoutException e) {
            throw new AssertionError("the generations did not all run at once", e);
        }
    }

    private void assertIdle() {
        assertThat(engine.activeGenerations()).isZero();
        assertThat(engine.kvBytesInUse()).isZero();
        assertThat(engine.kvBytesReserved()).isZero();
        assertThat(engine.freeSlots()).isEqualTo(engine.settings().concurrency());
        assertThat(engine.queueLength()).isZero();
    }

    @Test
    void generationsJoiningAndLeavingABatchGiveTheirTextAloneInEveryMode() throws Exception {
        open(TestModels.stories260K(), 4, Duration.ofMinutes(1));
        assertThat(engine.describe()).contains("a batch of up to 4 generations on 2 threads (steps of up to %d tokens)"
                .formatted(4 + LlamaForward.PREFILL_BATCH));
        for (KvMode mode : KvMode.all()) {
            meters.clear();
            engine.close();
            open(TestModels.stories260K(), 4, Duration.ofMinutes(1));
            batchedTextEqualsTextAlone(mode);
        }
    }

    @Test
    void theLargerModelsBatchedTextEqualsItsTextAloneInEveryMode() throws Exception {
        var storybooks = TestModels.storybooks();
        assumeThat(storybooks).as("storybooks-18M-hd128.gguf in ../shared/models").isPresent();
        for (KvMode mode : KvMode.all()) {
            if (engine != null) {
                engine.close();
            }
            meters.clear();
            open(storybooks.get(), 4, Duration.ofMinutes(2));
            batchedTextEqualsTextAlone(mode);
        }
    }

    @Test
    void aConsumerThatCancelsStopsOnlyItsGeneration() throws Exception {
        open(TestModels.stories260K(), 2, Duration.ofMinutes(1));
        String expected = alone(PROMPTS.getFirst(), 60, KvMode.FP32);
        var cancelling = CompletableFuture.supplyAsync(() -> engine.generate(
                engine.prepare(greedy(PROMPTS.get(1), 200, KvMode.FP32)), (text, tokens) -> tokens < 5));
        var running = CompletableFuture.supplyAsync(() -> engine.generate(
                engine.prepare(greedy(PROMPTS.getFirst(), 60, KvMode.FP32)), GenerationListener.IGNORE));
        GenerationOutcome cancelled = cancelling.get(60, TimeUnit.SECONDS);
        assertThat(cancelled.result().completionTokens()).isEqualTo(5);
        assertThat(cancelled.cancelledByConsumer()).isTrue();
        assertThat(running.get(60, TimeUnit.SECONDS).result().text()).isEqualTo(expected);
        assertIdle();
    }

    @Test
    void aSlowConsumerDelaysOnlyItsOwnGeneration() throws Exception {
        open(TestModels.stories260K(), 2, Duration.ofMinutes(1));
        var slowTexts = new AtomicInteger();
        var slowStarted = new CountDownLatch(1);
        var slow = CompletableFuture.supplyAsync(() -> engine.generate(
                engine.prepare(greedy(PROMPTS.get(1), 10, KvMode.FP32)), (text, tokens) -> {
                    slowStarted.countDown();
                    slowTexts.incrementAndGet();
                    try {
                        Thread.sleep(300);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    return true;
                }));
        assertThat(slowStarted.await(30, TimeUnit.SECONDS)).isTrue();
        GenerationOutcome fast = engine.generate(engine.prepare(greedy(PROMPTS.getFirst(), 50, KvMode.FP32)),
                GenerationListener.IGNORE);
        assertThat(fast.result().completionTokens()).isEqualTo(50);
        assertThat(slow).as("the slow generation, 10 texts of 300 ms each, when the fast one ended").isNotDone();
        assertThat(slowTexts.get()).as("texts the slow consumer took while 50 tokens went to the fast one")
                .isLessThan(10);
        assertThat(slow.get(60, TimeUnit.SECONDS).result().completionTokens()).isEqualTo(10);
        assertIdle();
    }

    @Test
    void aLongPromptIsReadInPiecesBesideTheOthersTokens() throws Exception {
        open(TestModels.stories260K(), 2, Duration.ofMinutes(1));
        String longPrompt = "Once upon a time, there was a little girl named Lily. ".repeat(60);
        var shortTexts = new AtomicInteger();
        var decoding = new CountDownLatch(1);
        var textsBeforeLongOne = new AtomicInteger(-1);
        var shortOne = CompletableFuture.supplyAsync(() -> engine.generate(
                engine.prepare(greedy(PROMPTS.getFirst(), 400, KvMode.FP32)), (text, tokens) -> {
                    shortTexts.incrementAndGet();
                    decoding.countDown();
                    return true;
                }));
        assertThat(decoding.await(30, TimeUnit.SECONDS)).isTrue();
        var prepared = engine.prepare(greedy(longPrompt, 5, KvMode.FP32));
        int step = engine.settings().concurrency() + LlamaForward.PREFILL_BATCH;
        assertThat(prepared.promptTokens()).as("a prompt of at least 8 steps").isGreaterThan(8 * step);
        GenerationOutcome longOne = engine.generate(prepared, (text, tokens) -> {
            textsBeforeLongOne.compareAndSet(-1, shortTexts.get());
            return true;
        });
        assertThat(longOne.result().completionTokens()).isEqualTo(5);
        // Steps are full: the short one's next token and the rest of the prompt's; the short one's consumer may answer
        // too late for some steps (each waits for it only a quarter of a step), so not every piece has its token.
        assertThat(textsBeforeLongOne.get() - 1).as("the short generation's texts while %d prompt tokens ran in "
                + "pieces", prepared.promptTokens()).isGreaterThanOrEqualTo(2);
        shortOne.get(60, TimeUnit.SECONDS);
        assertThat(meters.find("innerq.batch.tokens").summary().max()).isEqualTo(step);
        assertIdle();
    }

    @Test
    void aTimeLimitIsCheckedBeforeEachPieceOfAPrompt() throws Exception {
        open(TestModels.stories260K(), 2, Duration.ofNanos(1));
        GenerationOutcome o = engine.generate(engine.prepare(greedy(PROMPTS.get(2), 20, KvMode.FP32)),
                GenerationListener.IGNORE);
        assertThat(o.timedOut()).isTrue();
        assertThat(o.result().finishReason()).isEqualTo(FinishReason.CANCELLED);
        assertThat(o.finishReason()).isEqualTo("length");
        assertThat(o.result().completionTokens()).isZero();
        assertIdle();
    }

    @Test
    void metricsCountStepsQueueAndTimePerOutputToken() throws Exception {
        open(TestModels.stories260K(), 2, Duration.ofMinutes(1));
        engine.generate(engine.prepare(greedy(PROMPTS.getFirst(), 30, KvMode.FP32)), GenerationListener.IGNORE);
        var tpot = meters.find("innerq.generation.time.per.output.token").timer();
        assertThat(tpot.count()).as("intervals between 30 tokens").isEqualTo(29);
        assertThat(meters.find("innerq.batch.size").summary().count()).as("steps: the prompt, then 29 tokens")
                .isEqualTo(30);
        assertThat(meters.find("innerq.queue.length").gauge().value()).isZero();
    }

    @Test
    void aListenerThatFailsEndsOnlyItsGenerationWithItsError() throws Exception {
        open(TestModels.stories260K(), 2, Duration.ofMinutes(1));
        String expected = alone(PROMPTS.getFirst(), 40, KvMode.FP32);
        var running = CompletableFuture.supplyAsync(() -> engine.generate(
                engine.prepare(greedy(PROMPTS.getFirst(), 40, KvMode.FP32)), GenerationListener.IGNORE));
        String longPrompt = "Once upon a time, there was a little girl named Lily. ".repeat(20);
        assertThatThrownBy(() -> engine.generate(engine.prepare(greedy(longPrompt, 10, KvMode.FP32)),
                new GenerationListener() {
                    private int checks;

                    @Override
                    public boolean onText(String text, int completionTokens) {
                        return true;
                    }

                    @Override
                    public boolean cancelled() {
                        if (++checks > 2) { // the check before the start, then the first piece of the prompt
                            throw new IllegalStateException("the consumer broke");
                        }
                        return false;
                    }
                })).isInstanceOf(IllegalStateException.class).hasMessage("the consumer broke");
        assertThatThrownBy(() -> engine.generate(engine.prepare(greedy(PROMPTS.get(1), 10, KvMode.FP32)),
                (text, tokens) -> {
                    throw new IllegalArgumentException("the listener broke");
                })).isInstanceOf(IllegalArgumentException.class).hasMessage("the listener broke");
        assertThat(running.get(60, TimeUnit.SECONDS).result().text()).isEqualTo(expected);
        assertThat(engine.generate(engine.prepare(greedy(PROMPTS.getFirst(), 40, KvMode.FP32)),
                GenerationListener.IGNORE).result().text()).as("the batch runs on").isEqualTo(expected);
        assertIdle();
    }

    @Test
    void closingTheEngineEndsRunningGenerationsWithAnError() throws Exception {
        open(TestModels.stories260K(), 2, Duration.ofMinutes(1));
        var first = new CountDownLatch(1);
        var running = CompletableFuture.supplyAsync(() -> engine.generate(
                engine.prepare(greedy(PROMPTS.getFirst(), 1500, KvMode.FP32)), (text, tokens) -> {
                    first.countDown();
                    return true;
                }));
        assertThat(first.await(30, TimeUnit.SECONDS)).isTrue();
        engine.close();
        engine = null;
        assertThatThrownBy(() -> running.get(30, TimeUnit.SECONDS))
                .hasCauseInstanceOf(IllegalStateException.class)
                .hasMessageContaining("the engine was closed");
    }
}
