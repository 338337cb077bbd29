package io.innerq.server;

import io.innerq.serving.InnerqEngine;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.ContextConfiguration;
import tools.jackson.databind.JsonNode;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code spring.ai.innerq.generation-timeout} passing, over the real HTTP server: requests for far more tokens than the time
 * limit allows end with status 200, finish reason {@code length} and {@code finish_detail: "time_limit"}, streamed or
 * not; each frees its slot and cache, and Prometheus counts them as {@code finish="timeout"}.
 */
@SpringBootTest(classes = InnerqServer.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"spring.ai.innerq.generation-timeout=100ms", "spring.ai.innerq.queue-timeout=5s", "spring.ai.innerq.kv.mode=fp32"})
@ContextConfiguration(initializers = InnerqServiceTest.TestModel.class)
class GenerationTimeLimitTests {

    private static final long LIMIT_MILLIS = 100;

    @LocalServerPort
    int port;

    @Autowired
    InnerqEngine engine;

    @Autowired
    MeterRegistry meters;

    @Test
    void aGenerationPastTheTimeLimitEndsSayingSoAndFreesItsSlot() throws Exception {
        var http = new Http(port);
        double timeoutsBefore = timeouts();
        int requests = 10;
        var elapsed = new ArrayList<Double>();
        var tokens = new ArrayList<Double>();
        for (int i = 0; i < requests; i++) {
            boolean chat = i % 2 == 0;
            boolean stream = i % 4 >= 2;
            String input = chat ? "\"messages\": [{\"role\": \"user\", \"content\": \"Once upon a time\"}]"
                    : "\"prompt\": \"Once upon a time\"";
            String body = "{%s, \"max_tokens\": 1900, \"temperature\": 1.5, \"seed\": %d, \"stream\": %s%s}"
                    .formatted(input, i, stream, stream ? ", \"stream_options\": {\"include_usage\": true}" : "");
            long start = System.nanoTime();
            var r = http.post(chat ? "/v1/chat/completions" : "/v1/completions", body, null);
            elapsed.add((System.nanoTime() - start) / 1e6);
            assertThat(r.status()).as(r.body()).isEqualTo(200);
            JsonNode choice;
            JsonNode usage;
            if (stream) {
                List<String> events = r.events();
                assertThat(events.getLast()).isEqualTo("[DONE]");
                choice = Http.JSON.readTree(events.get(events.size() - 3)).path("choices").get(0);
                usage = Http.JSON.readTree(events.get(events.size() - 2)).path("usage");
            } else {
                choice = r.json().path("choices").get(0);
                usage = r.json().path("usage");
            }
            assertThat(choice.path("finish_reason").asString()).as(r.body()).isEqualTo("length");
            assertThat(choice.path("finish_detail").asString()).as(r.body()).isEqualTo("time_limit");
            int completion = usage.path("completion_tokens").asInt();
            // fewer than asked for; 0 when the limit passed while the prompt ran (a busy machine, a cold JIT)
            assertThat(completion).isBetween(0, 1899);
            tokens.add((double) completion);
            EngineState.awaitIdle(engine, Duration.ofSeconds(5));
        }
        EngineState.assertIdleInPrometheus(http, engine.settings().concurrency());
        assertThat(timeouts()).isEqualTo(timeoutsBefore + requests);
        assertThat(ClientFaultTests.percentile(elapsed, 50)).isGreaterThanOrEqualTo(LIMIT_MILLIS);

        var untimed = http.post("/v1/completions", """
                {"prompt": "Once upon a time", "max_tokens": 5, "temperature": 0}""", null);
        assertThat(untimed.json().path("choices").get(0).has("finish_detail")).as(untimed.body()).isFalse();
        ClientFaultTests.report("time limit %d ms: %d requests for 1900 tokens (chat and completion, streamed and "
                        + "not) ended with 200, length and time_limit after p50 %.0f ms, max %.0f ms (client side), "
                        + "with p50 %.0f tokens; idle after each", LIMIT_MILLIS, requests,
                ClientFaultTests.percentile(elapsed, 50), ClientFaultTests.percentile(elapsed, 100),
                ClientFaultTests.percentile(tokens, 50));
    }

    private double timeouts() {
        var c = meters.find("innerq.generations").tag("finish", "timeout").counter();
        return c == null ? 0 : c.count();
    }
}
