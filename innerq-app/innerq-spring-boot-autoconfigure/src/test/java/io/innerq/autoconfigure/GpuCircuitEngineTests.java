package io.innerq.autoconfigure;

import io.innerq.cache.KvMode;
import io.innerq.serving.BackendKind;
import io.innerq.serving.EngineSettings;
import io.innerq.serving.GpuRuntime;
import io.innerq.serving.InnerqEngine;
import io.innerq.serving.ModelSource;
import io.innerq.engine.GenerationRequest;
import io.innerq.sampling.SamplingParams;
import io.innerq.testing.TestModels;
import io.innerq.vulkan.VulkanDevice;
import io.innerq.vulkan.VulkanException;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The engine with its forward pass on a real Vulkan device (lavapipe in CI), and what it does when the GPU fails: a
 * failure before the first token moves the generation to the CPU (same text, nothing repeated), repeated failures open
 * the circuit so that generations go straight to the CPU, and a failure after text was sent ends that generation with
 * the error and frees its cache. The failure is injected into the real device's forward pass as a lost device would
 * show itself: a {@link VulkanException} from a token step's submission. The circuit is the Resilience4j one the
 * auto-configuration gives.
 */
class GpuCircuitEngineTests {

    // The first 18 greedy tokens after "Once upon a time" (the reference text every backend prints)
    private static final String REFERENCE = ", there was a little girl named Lily. She loved to play out";

    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final AtomicBoolean lost = new AtomicBoolean();
    private final AtomicInteger gpuCalls = new AtomicInteger();
    private InnerqEngine engine;

    private InnerqEngine open() throws IOException {
        var device = VulkanDevice.open(VulkanDevice.Options.fromSystemProperties());
        var gpu = GpuRuntime.of(device, forward -> new FailingGpuForward(forward, lost, gpuCalls));
        engine = InnerqEngine.opener(new ModelSource.File(TestModels.stories260K()), new EngineSettings(
                        BackendKind.VULKAN, 2, 1, KvMode.FP32, 64L << 20, Duration.ofSeconds(1), Duration.ofMinutes(1)))
                .meters(meters).gpu(gpu).gpuCircuit(new Resilience4jGpuCircuit()).open();
        return engine;
    }

    @AfterEach
    void close() {
        if (engine != null) {
            engine.close();
        }
    }

    private static GenerationRequest greedy() {
        return new GenerationRequest("Once upon a time", 18, SamplingParams.greedy(), List.of(), true, true, KvMode.FP32);
    }

    private String run() {
        var text = new StringBuilder();
        engine.generate(engine.prepare(greedy()), (piece, tokens) -> {
            text.append(piece);
            return true;
        });
        return text.toString();
    }

    @Test
    void generatesOnTheGpuWithTheCpusText() throws IOException {
        open();
        assertThat(run()).isEqualTo(REFERENCE);
        assertThat(gpuCalls.get()).isPositive();
        assertThat(engine.backendName()).startsWith("vulkan");
        assertThat(engine.gpuCircuitState()).isEqualTo("CLOSED");
        assertThat(engine.gpuFallbacks()).isZero();
    }

    @Test
    void aGpuFailureBeforeTheFirstTokenFallsBackToTheCpuAndRepeatedFailuresOpenTheCircuit() throws IOException {
        open();
        lost.set(true);
        assertThat(run()).as("first failure: run again on the CPU").isEqualTo(REFERENCE);
        assertThat(run()).as("second failure").isEqualTo(REFERENCE);
        assertThat(engine.gpuCircuitState()).isEqualTo("OPEN");
        int calls = gpuCalls.get();
        assertThat(run()).as("circuit open: straight to the CPU").isEqualTo(REFERENCE);
        assertThat(gpuCalls.get()).as("the GPU is not tried while the circuit is open").isEqualTo(calls);
        assertThat(engine.gpuFallbacks()).isEqualTo(3);
        assertThat(meters.find("innerq.gpu.fallbacks").counter().count()).isEqualTo(3);
        assertThat(engine.kvBytesInUse()).isZero();
        assertThat(engine.activeGenerations()).isZero();
    }

    @Test
    void aGpuFailureAfterTextWasSentEndsTheGenerationAndFreesItsCache() throws IOException {
        open();
        var sent = new StringBuilder();
        assertThatThrownBy(() -> engine.generate(engine.prepare(greedy()), (piece, tokens) -> {
            sent.append(piece);
            lost.set(true);
            return true;
        })).isInstanceOf(VulkanException.class);
        assertThat(REFERENCE).startsWith(sent.toString());
        assertThat(sent.length()).isPositive();
        assertThat(engine.kvBytesInUse()).isZero();
        assertThat(engine.activeGenerations()).isZero();
        assertThat(engine.gpuFallbacks()).isZero();
        assertThat(meters.find("innerq.generations").tag("finish", "error").counter().count()).isEqualTo(1);
    }
}
