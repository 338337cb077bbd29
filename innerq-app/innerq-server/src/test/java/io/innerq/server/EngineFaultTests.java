package io.innerq.server;

import io.innerq.cache.KvMode;
import io.innerq.port.out.ForwardPort;
import io.innerq.serving.GpuRuntime;
import io.innerq.serving.InnerqEngine;
import io.innerq.vulkan.VulkanDevice;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Bean;
import org.springframework.test.context.ContextConfiguration;
import tools.jackson.databind.JsonNode;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static io.innerq.server.OpenAiErrorShape.assertOpenAiError;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A failure inside the engine while it generates (as a non-finite logit or a broken model would make one), after
 * tokens were produced, so that no fallback can hide it: the request gets a 500 {@code server_error} in OpenAI's
 * shape, or, once its stream began, an error event of that shape and {@code [DONE]}; the message carries nothing of
 * the exception (neither its text nor its class), and the service goes on serving with its caches and slots free.
 * The failure is injected into the token steps of a real device's forward pass (lavapipe in CI), the one place where
 * the engine takes a forward pass from outside.
 */
@SpringBootTest(classes = {InnerqServer.class, EngineFaultTests.FaultyGpu.class},
        webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"spring.ai.innerq.backend=vulkan", "spring.ai.innerq.kv.mode=fp32",
                "spring.ai.innerq.queue-timeout=2s"})
@ContextConfiguration(initializers = InnerqServiceTest.TestModel.class)
class EngineFaultTests {

    /** The token step at which the forward pass fails (counted from the prompt's), or -1 for none. */
    static final AtomicInteger FAIL_AT_STEP = new AtomicInteger(-1);

    /** What the failure says: internals that must not reach the client. */
    static final String INTERNALS = "non-finite logit NaN at token 3 (io.innerq.engine.Generator.sample)";

    @LocalServerPort
    int port;

    @Autowired
    InnerqEngine engine;

    Http http;

    @BeforeEach
    void client() {
        http = new Http(port);
    }

    @AfterEach
    void heal() {
        FAIL_AT_STEP.set(-1);
    }

    private static final String CHAT = """
            {"messages": [{"role": "user", "content": "Once upon a time"}], "max_tokens": 8, "temperature": 0%s}""";

    @Test
    void aFailureWhileGeneratingIsAGeneric500AndTheServiceKeepsServing() throws Exception {
        var healthy = http.post("/v1/chat/completions", CHAT.formatted(""), null);
        assertThat(healthy.status()).as(healthy.body()).isEqualTo(200);

        FAIL_AT_STEP.set(3);
        for (String path : new String[]{"/v1/chat/completions", "/v1/completions"}) {
            String body = path.contains("chat") ? CHAT.formatted("")
                    : "{\"prompt\": \"Once upon a time\", \"max_tokens\": 8, \"temperature\": 0}";
            var failed = http.post(path, body, null);
            JsonNode error = assertOpenAiError(failed, 500);
            assertThat(error.path("type").asString()).isEqualTo("server_error");
            assertThat(error.path("param").isNull()).isTrue();
            assertThat(failed.body()).doesNotContain("non-finite", "NaN", "IllegalState", "sample");
            assertThat(error.path("message").asString()).contains("error id");
            EngineState.awaitIdle(engine, Duration.ofSeconds(5));
        }

        var stream = http.post("/v1/chat/completions", CHAT.formatted(", \"stream\": true"), null);
        assertThat(stream.status()).as(stream.body()).isEqualTo(200);
        List<String> events = stream.events();
        assertThat(events.getLast()).isEqualTo("[DONE]");
        assertThat(Http.JSON.readTree(events.getFirst()).path("object").asString()).isEqualTo("chat.completion.chunk");
        String errorEvent = events.get(events.size() - 2);
        JsonNode error = assertOpenAiError(500, "application/json", errorEvent);
        assertThat(error.path("type").asString()).isEqualTo("server_error");
        assertThat(errorEvent).doesNotContain("non-finite", "NaN", "IllegalState", "sample");
        EngineState.awaitIdle(engine, Duration.ofSeconds(5));

        FAIL_AT_STEP.set(-1);
        var after = http.post("/v1/chat/completions", CHAT.formatted(""), null);
        assertThat(after.status()).as(after.body()).isEqualTo(200);
        assertThat(after.json().path("choices").get(0).path("message").path("content").asString())
                .isEqualTo(healthy.json().path("choices").get(0).path("message").path("content").asString());
        EngineState.awaitIdle(engine, Duration.ofSeconds(5));
        EngineState.assertIdleInPrometheus(http, engine.settings().concurrency());
        assertThat(http.get("/actuator/health/liveness", null).status()).isEqualTo(200);
    }

    /** The device's forward pass, failing at step {@link #FAIL_AT_STEP} of a sequence as the engine might. */
    @TestConfiguration
    static class FaultyGpu {
        @Bean
        GpuRuntime gpuRuntime() {
            return GpuRuntime.of(VulkanDevice.open(VulkanDevice.Options.fromSystemProperties()), FaultyForward::new);
        }
    }

    private record FaultyForward(ForwardPort gpu) implements ForwardPort {
        @Override
        public Sequence start(int capacity, KvMode mode) {
            Sequence sequence = gpu.start(capacity, mode);
            var steps = new AtomicInteger();
            return new Sequence() {
                @Override
                public float[] prefill(int[] tokens, int start, int count) {
                    return sequence.prefill(tokens, start, count);
                }

                @Override
                public float[] step(int token, int position, boolean computeLogits) {
                    if (steps.incrementAndGet() == FAIL_AT_STEP.get()) {
                        throw new IllegalStateException(INTERNALS);
                    }
                    return sequence.step(token, position, computeLogits);
                }

                @Override
                public void endPrefill(int promptLength) {
                    sequence.endPrefill(promptLength);
                }

                @Override
                public int capacity() {
                    return sequence.capacity();
                }

                @Override
                public long kvBytes() {
                    return sequence.kvBytes();
                }

                @Override
                public void close() {
                    sequence.close();
                }
            };
        }

        @Override
        public String name() {
            return gpu.name();
        }
    }
}
