package io.innerq.server;

import io.innerq.serving.InnerqEngine;
import io.innerq.cache.KvMode;
import io.innerq.engine.GenerationRequest;
import io.innerq.sampling.SamplingParams;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.JsonNode;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static io.innerq.server.InnerqServiceTest.TEST_KEY;
import static org.assertj.core.api.Assertions.assertThat;

/** The OpenAI-compatible HTTP API over the real stories260K model, through a real socket. */
@InnerqServiceTest
class OpenAiApiTests {

    @LocalServerPort
    int port;

    @Autowired
    InnerqEngine engine;

    @Autowired
    MeterRegistry meters;

    Http http;

    @BeforeEach
    void client() {
        http = new Http(port);
    }

    private static String chat(String extra) {
        return """
                {"model": "stories260K", "messages": [{"role": "user", "content": "Once upon a time"}],
                 "temperature": 0, "kv_cache_mode": "fp32"%s}""".formatted(extra.isEmpty() ? "" : ", " + extra);
    }

    private static void assertError(Http.Response r, int status, String type, String code, String... message) {
        assertThat(r.status()).as(r.body()).isEqualTo(status);
        assertThat(r.raw().headers().firstValue("Content-Type")).hasValueSatisfying(
                v -> assertThat(v).startsWith("application/json"));
        JsonNode error = r.json().path("error");
        assertThat(error.path("type").asString()).isEqualTo(type);
        if (code != null) {
            assertThat(error.path("code").asString()).isEqualTo(code);
        }
        assertThat(error.has("param")).isTrue();
        assertThat(error.path("message").asString()).contains(message);
    }

    @Test
    void modelsListsTheServedModel() {
        var r = http.get("/v1/models", TEST_KEY);
        assertThat(r.status()).isEqualTo(200);
        JsonNode json = r.json();
        assertThat(json.path("object").asString()).isEqualTo("list");
        assertThat(json.path("data").size()).isEqualTo(1);
        assertThat(json.path("data").get(0).path("id").asString()).isEqualTo("stories260K");
        assertThat(json.path("data").get(0).path("object").asString()).isEqualTo("model");
        assertThat(http.get("/v1/models/stories260K", TEST_KEY).status()).isEqualTo(200);
        assertError(http.get("/v1/models/gpt-4", TEST_KEY), 404, "invalid_request_error", "model_not_found",
                "'gpt-4'", "stories260K");
    }

    @Test
    void aRequestWithoutTheRightKeyIs401() {
        assertError(http.get("/v1/models", null), 401, "invalid_request_error", "invalid_api_key",
                "Authorization: Bearer");
        assertError(http.post("/v1/chat/completions", chat(""), "wrong-key"), 401, "invalid_request_error",
                "invalid_api_key", "incorrect API key");
    }

    @Test
    void chatCompletionAnswersInOpenAisShape() {
        var r = http.post("/v1/chat/completions", chat("\"max_tokens\": 12"), TEST_KEY);
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        JsonNode json = r.json();
        assertThat(json.path("object").asString()).isEqualTo("chat.completion");
        assertThat(json.path("id").asString()).startsWith("chatcmpl-");
        assertThat(json.path("model").asString()).isEqualTo("stories260K");
        JsonNode choice = json.path("choices").get(0);
        assertThat(choice.path("message").path("role").asString()).isEqualTo("assistant");
        assertThat(choice.path("message").path("content").asString()).startsWith(", there was a little girl");
        assertThat(choice.path("finish_reason").asString()).isEqualTo("length");
        assertThat(json.path("usage").path("prompt_tokens").asInt()).isEqualTo(5);
        assertThat(json.path("usage").path("completion_tokens").asInt()).isEqualTo(12);
        assertThat(json.path("usage").path("total_tokens").asInt()).isEqualTo(17);
    }

    @Test
    void completionContinuesThePrompt() {
        var r = http.post("/v1/completions", """
                {"model": "stories260K", "prompt": "Once upon a time", "max_tokens": 8, "temperature": 0,
                 "kv_cache_mode": "fp32", "echo": true}""", TEST_KEY);
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        JsonNode json = r.json();
        assertThat(json.path("object").asString()).isEqualTo("text_completion");
        assertThat(json.path("choices").get(0).path("text").asString()).startsWith("Once upon a time, there was");
        assertThat(json.path("usage").path("completion_tokens").asInt()).isEqualTo(8);
    }

    @Test
    void aStreamIsServerSentChunksEndingInDone() {
        String whole = http.post("/v1/chat/completions", chat("\"max_tokens\": 10"), TEST_KEY).json()
                .path("choices").get(0).path("message").path("content").asString();
        var r = http.post("/v1/chat/completions",
                chat("\"max_tokens\": 10, \"stream\": true, \"stream_options\": {\"include_usage\": true}"),
                TEST_KEY);
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(r.raw().headers().firstValue("Content-Type")).hasValueSatisfying(
                v -> assertThat(v).startsWith("text/event-stream"));
        List<String> events = r.events();
        assertThat(events.getLast()).isEqualTo("[DONE]");
        List<JsonNode> chunks = events.subList(0, events.size() - 1).stream().map(Http.JSON::readTree).toList();
        assertThat(chunks).allSatisfy(c -> {
            assertThat(c.path("object").asString()).isEqualTo("chat.completion.chunk");
            assertThat(c.path("id").asString()).isEqualTo(chunks.getFirst().path("id").asString());
        });
        assertThat(chunks.getFirst().path("choices").get(0).path("delta").path("role").asString())
                .isEqualTo("assistant");
        var text = new StringBuilder();
        for (JsonNode c : chunks.subList(1, chunks.size() - 2)) {
            assertThat(c.path("choices").get(0).path("finish_reason").isNull()).isTrue();
            text.append(c.path("choices").get(0).path("delta").path("content").asString());
        }
        assertThat(text.toString()).isEqualTo(whole);
        JsonNode finish = chunks.get(chunks.size() - 2);
        assertThat(finish.path("choices").get(0).path("finish_reason").asString()).isEqualTo("length");
        assertThat(finish.path("choices").get(0).path("delta").isEmpty()).isTrue();
        JsonNode usage = chunks.getLast();
        assertThat(usage.path("choices").isEmpty()).isTrue();
        assertThat(usage.path("usage").path("completion_tokens").asInt()).isEqualTo(10);
    }

    @Test
    void aCompletionStreamEndsInDone() {
        var r = http.post("/v1/completions", """
                {"prompt": "Once upon a time", "max_tokens": 5, "temperature": 0, "stream": true}""", TEST_KEY);
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        List<String> events = r.events();
        assertThat(events).hasSize(7); // 5 deltas, the finish, [DONE]
        assertThat(events.getLast()).isEqualTo("[DONE]");
        assertThat(Http.JSON.readTree(events.get(5)).path("choices").get(0).path("finish_reason").asString())
                .isEqualTo("length");
    }

    @Test
    void requestsThatCannotRunAreClear400s() {
        assertError(http.post("/v1/chat/completions", chat("\"n\": 2"), TEST_KEY), 400, "invalid_request_error",
                null, "n must be 1");
        assertError(http.post("/v1/chat/completions", chat("\"max_tokens\": 0"), TEST_KEY), 400,
                "invalid_request_error", null, "max_tokens must be between 1 and 2048");
        assertError(http.post("/v1/chat/completions", chat("\"max_tokens\": 5000"), TEST_KEY), 400,
                "invalid_request_error", null, "max_tokens must be between 1 and 2048");
        assertError(http.post("/v1/chat/completions", chat("\"temperature\": -1"), TEST_KEY), 400,
                "invalid_request_error", "decimal_below_min_value", "temperature must be a finite number of at least 0");
        assertError(http.post("/v1/chat/completions", chat("\"tools\": [{\"type\": \"function\"}]"), TEST_KEY),
                400, "invalid_request_error", "unsupported_parameter", "tool calling");
        assertError(http.post("/v1/chat/completions", "{\"messages\": []}", TEST_KEY), 400,
                "invalid_request_error", null, "at least one message");
        assertError(http.post("/v1/chat/completions", "{\"messages\": [", TEST_KEY), 400,
                "invalid_request_error", null, "could not parse the JSON body");
        assertError(http.post("/v1/chat/completions", """
                {"model": "gpt-4", "messages": [{"role": "user", "content": "hi"}]}""", TEST_KEY), 404,
                "invalid_request_error", "model_not_found", "'gpt-4'");
    }

    @Test
    void aPromptOverTheContextIs400() {
        String prompt = "Once upon a time there was a girl. ".repeat(300);
        assertError(http.post("/v1/completions", """
                {"prompt": "%s", "max_tokens": 10}""".formatted(prompt), TEST_KEY), 400, "invalid_request_error",
                "context_length_exceeded", "but the context holds 2048");
    }

    @Test
    void aBodyOverTheLimitIs413() {
        String prompt = "x".repeat(1_100_000);
        String body = "{\"prompt\": \"%s\"}".formatted(prompt);
        assertError(http.post("/v1/completions", body, TEST_KEY), 413, "invalid_request_error", "request_too_large",
                "innerq.max-request-size");
        assertError(http.postChunked("/v1/completions", body, TEST_KEY), 413, "invalid_request_error",
                "request_too_large", "innerq.max-request-size");
    }

    @Test
    void aRequestWhoseCacheExceedsTheBudgetIs429() {
        var r = http.post("/v1/chat/completions", chat("\"max_tokens\": 2000"), TEST_KEY);
        assertError(r, 429, "rate_limit_error", "kv_budget_exceeded", "spring.ai.innerq.kv.budget is 1.0 MiB", "needs 2.4 MiB",
                "ask for at most 814 tokens");
    }

    @Test
    void whenTheOnlySlotStaysBusyARequestIs429WithRetryAfter() {
        var prepared = engine.prepare(new GenerationRequest("Once upon a time", 4, SamplingParams.greedy(), List.of(),
                true, true, KvMode.FP32));
        try (var held = engine.admit(prepared)) {
            var r = http.post("/v1/chat/completions", chat("\"max_tokens\": 4, \"stream\": true"), TEST_KEY);
            assertError(r, 429, "rate_limit_error", "server_busy", "stayed busy for PT2S (spring.ai.innerq.queue-timeout)");
            assertThat(r.raw().headers().firstValue("Retry-After")).hasValue("1");
        }
        assertThat(http.post("/v1/chat/completions", chat("\"max_tokens\": 4"), TEST_KEY).status()).isEqualTo(200);
    }

    @Test
    void aClientThatDisconnectsFreesItsCacheAtOnce() throws Exception {
        double cancelledBefore = cancelled();
        String body = """
                {"prompt": "Once upon a time", "max_tokens": 1800, "temperature": 1.5, "seed": 7,
                 "kv_cache_mode": "innerq-small", "stream": true}""";
        try (var socket = new Socket("127.0.0.1", port)) {
            OutputStream out = socket.getOutputStream();
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            out.write(("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + TEST_KEY
                    + "\r\nContent-Type: application/json\r\nContent-Length: " + bytes.length + "\r\n\r\n")
                    .getBytes(StandardCharsets.UTF_8));
            out.write(bytes);
            out.flush();
            var in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            assertThat(in.readLine()).isEqualTo("HTTP/1.1 200 ");
            int events = 0;
            for (String line; events < 3 && (line = in.readLine()) != null; ) {
                if (line.startsWith("data: {")) {
                    events++;
                }
            }
            assertThat(events).isEqualTo(3);
            assertThat(engine.activeGenerations()).isEqualTo(1);
            assertThat(engine.kvBytesInUse()).isPositive();
            socket.setSoLinger(true, 0); // reset the connection, as a client that dies does
        }
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (engine.activeGenerations() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(engine.activeGenerations()).isZero();
        assertThat(engine.kvBytesInUse()).isZero();
        assertThat(engine.kvBytesReserved()).isZero();
        assertThat(cancelled()).isEqualTo(cancelledBefore + 1);
    }

    private double cancelled() {
        var c = meters.find("innerq.generations").tag("finish", "cancelled").counter();
        return c == null ? 0 : c.count();
    }
}
