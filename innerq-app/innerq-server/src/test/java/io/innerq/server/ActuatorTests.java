package io.innerq.server;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.ai.chat.model.ChatModel;
import org.springframework.ai.chat.prompt.Prompt;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.JsonNode;

import java.util.Set;
import java.util.stream.Collectors;

import static io.innerq.server.InnerqServiceTest.TEST_KEY;
import static org.assertj.core.api.Assertions.assertThat;

/** Health, readiness, info and Prometheus metrics of the running service. */
@InnerqServiceTest
class ActuatorTests {

    @LocalServerPort
    int port;

    Http http;

    @Autowired
    MeterRegistry meters;

    @Autowired
    ChatModel chatModel;

    @BeforeEach
    void client() {
        http = new Http(port);
    }

    @Test
    void healthIsUpWithTheModelAndBackend() {
        var r = http.get("/actuator/health", null);
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        JsonNode json = r.json();
        assertThat(json.path("status").asString()).isEqualTo("UP");
        JsonNode innerq = json.path("components").path("innerq");
        assertThat(innerq.path("status").asString()).isEqualTo("UP");
        assertThat(innerq.path("details").path("model").asString()).isEqualTo("stories260K");
        assertThat(innerq.path("details").path("backend").asString()).startsWith("cpu (vector-");
        assertThat(innerq.path("details").path("kvBudgetBytes").asLong()).isEqualTo(1024 * 1024);
    }

    @Test
    void livenessAndReadinessProbesAreUp() {
        var live = http.get("/actuator/health/liveness", null);
        assertThat(live.status()).as(live.body()).isEqualTo(200);
        assertThat(live.json().path("status").asString()).isEqualTo("UP");
        var ready = http.get("/actuator/health/readiness", null);
        assertThat(ready.status()).as(ready.body()).isEqualTo(200);
        assertThat(ready.json().path("status").asString()).isEqualTo("UP");
        assertThat(ready.json().path("components").has("innerq")).as(ready.body()).isTrue();
        assertThat(ready.json().path("components").has("readinessState")).as(ready.body()).isTrue();
    }

    @Test
    void infoNamesTheModelAndCacheMode() {
        var r = http.get("/actuator/info", null);
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        JsonNode innerq = r.json().path("innerq");
        assertThat(innerq.path("model").asString()).isEqualTo("stories260K");
        assertThat(innerq.path("kvCacheMode").asString()).isEqualTo("innerq-small");
        assertThat(innerq.path("contextLength").asInt()).isEqualTo(2048);
        assertThat(innerq.path("kvBitsPerElement").asDouble()).isPositive();
    }

    @Test
    void prometheusShowsTheEngineMetrics() {
        var generated = http.post("/v1/completions", """
                {"prompt": "Once upon a time", "max_tokens": 6, "temperature": 0}""", TEST_KEY);
        assertThat(generated.status()).as(generated.body()).isEqualTo(200);
        var r = http.get("/actuator/prometheus", null);
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(r.body()).contains(
                "innerq_generation_active ",
                "innerq_kv_used_bytes ",
                "innerq_kv_reserved_bytes ",
                "innerq_kv_budget_bytes 1048576",
                "innerq_kv_bits_per_element{mode=\"innerq-small\"}",
                "innerq_kv_bits_per_element{mode=\"fp32\"} 32",
                "innerq_tokens_total{type=\"completion\"}",
                "innerq_tokens_total{type=\"prompt\"}",
                "innerq_generations_total{finish=\"length\"}",
                "innerq_generation_time_to_first_token_seconds_count",
                "innerq_generation_decode_tokens_per_second_count");
    }

    @Test
    void apiRequestsAreObservedAsTheChatModelsCallsAre() {
        long before = genAiOperations();
        var chat = http.post("/v1/chat/completions", """
                {"messages": [{"role": "user", "content": "Once upon a time"}], "max_tokens": 4}""", TEST_KEY);
        assertThat(chat.status()).as(chat.body()).isEqualTo(200);
        var streamed = http.post("/v1/chat/completions", """
                {"messages": [{"role": "user", "content": "Once"}], "max_tokens": 4, "stream": true}""", TEST_KEY);
        assertThat(streamed.events().getLast()).isEqualTo("[DONE]");
        var completion = http.post("/v1/completions", """
                {"prompt": "Once upon a time", "max_tokens": 4}""", TEST_KEY);
        assertThat(completion.status()).as(completion.body()).isEqualTo(200);
        assertThat(genAiOperations()).isEqualTo(before + 3);

        Set<Set<String>> apiTags = tagKeys();
        chatModel.call(new Prompt("Once upon a time"));
        assertThat(genAiOperations()).isEqualTo(before + 4);
        assertThat(tagKeys()).as("the ChatModel's calls and the API's are one metric with one set of tags")
                .isEqualTo(apiTags).hasSize(1);
        assertThat(meters.find("gen_ai.client.operation").tag("gen_ai.request.model", "stories260K")
                .tag("gen_ai.response.model", "stories260K").timers()).isNotEmpty();
        String prometheus = http.get("/actuator/prometheus", null).body();
        assertThat(prometheus).contains("gen_ai_client_operation_seconds_count{", "gen_ai_system=\"innerq\"",
                "gen_ai_client_token_usage");
    }

    private long genAiOperations() {
        return meters.find("gen_ai.client.operation").tag("gen_ai.system", "innerq").timers().stream()
                .mapToLong(Timer::count).sum();
    }

    private Set<Set<String>> tagKeys() {
        return meters.find("gen_ai.client.operation").timers().stream()
                .map(t -> t.getId().getTags().stream().map(tag -> tag.getKey()).collect(Collectors.toSet()))
                .collect(Collectors.toSet());
    }
}
