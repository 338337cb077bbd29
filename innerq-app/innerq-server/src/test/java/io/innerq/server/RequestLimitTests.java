package io.innerq.server;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

import static io.innerq.server.InnerqServiceTest.TEST_KEY;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every size and number a request carries has a limit, and a request over it gets a 400 (413 for the body) whose
 * message names the limit, before anything runs. The defaults are those of {@link InnerqServerProperties}.
 */
@InnerqServiceTest
class RequestLimitTests {

    @LocalServerPort
    int port;

    Http http;

    @BeforeEach
    void client() {
        http = new Http(port);
    }

    private static String json(Object value) {
        return Http.JSON.writeValueAsString(value);
    }

    private static Map<String, Object> user(String content) {
        return Map.of("role", "user", "content", content);
    }

    private void assertRefused(String path, String body, int status, String param, String... message) {
        var r = http.post(path, body, TEST_KEY);
        assertThat(r.status()).as(r.body()).isEqualTo(status);
        JsonNode error = r.json().path("error");
        assertThat(error.path("type").asString()).isEqualTo("invalid_request_error");
        if (param != null) {
            assertThat(error.path("param").asString()).isEqualTo(param);
        }
        assertThat(error.path("message").asString()).contains(message);
    }

    private void chatRefused(Map<String, Object> extra, String param, String... message) {
        var body = new java.util.HashMap<String, Object>(Map.of("messages", List.of(user("Once upon a time"))));
        body.putAll(extra);
        assertRefused("/v1/chat/completions", json(body), 400, param, message);
    }

    private void completionRefused(Map<String, Object> extra, String param, String... message) {
        var body = new java.util.HashMap<String, Object>(Map.of("prompt", "Once upon a time"));
        body.putAll(extra);
        assertRefused("/v1/completions", json(body), 400, param, message);
    }

    @Test
    void theBodyIsLimitedInBytes() {
        String big = json(Map.of("messages", List.of(user("x".repeat(1_100_000)))));
        assertRefused("/v1/chat/completions", big, 413, null, "over 1048576 bytes", "innerq.max-request-size");
    }

    @Test
    void messagesAreLimitedInNumberAndLength() {
        assertRefused("/v1/chat/completions", json(Map.of("messages", Collections.nCopies(1025, user("a")))), 400,
                "messages", "1025 messages", "at most 1024", "innerq.max-messages");
        // 1024 pass this limit, and meet the next: they do not fit in the context
        assertRefused("/v1/chat/completions", json(Map.of("messages",
                Collections.nCopies(1024, user("Once upon a time there was a girl.")))), 400, null,
                "the context holds 2048");
        chatRefused(Map.of("messages", List.of(user("a"), user("x".repeat(262_145)))), "messages[1].content",
                "262145 characters", "at most 262144", "innerq.max-message-length");
        var parts = new ArrayList<Map<String, Object>>();
        for (int i = 0; i < 3; i++) {
            parts.add(Map.of("type", "text", "text", "x".repeat(100_000)));
        }
        chatRefused(Map.of("messages", List.of(Map.of("role", "user", "content", parts))), "messages[0].content",
                "innerq.max-message-length");
        completionRefused(Map.of("prompt", "x".repeat(262_145)), "prompt", "262145 characters",
                "innerq.max-message-length");
    }

    @Test
    void aPromptOverTheContextIsRefusedWithTheContextsSize() {
        String story = "Once upon a time there was a girl. ".repeat(300);
        chatRefused(Map.of("messages", List.of(user(story))), null, "but the context holds 2048");
        completionRefused(Map.of("prompt", story, "max_tokens", 10), null, "but the context holds 2048");
        completionRefused(Map.of("prompt", "Once upon a time", "max_tokens", 2045), null,
                "the prompt has 5 tokens and 2045 more were requested", "the context holds 2048",
                "ask for at most 2043 tokens");
    }

    @Test
    void tokenLimitsAreBoundedByTheContext() {
        for (int n : new int[]{0, -1, 2049, Integer.MAX_VALUE}) {
            chatRefused(Map.of("max_tokens", n), "max_tokens", "max_tokens must be between 1 and 2048");
            chatRefused(Map.of("max_completion_tokens", n), "max_completion_tokens",
                    "max_completion_tokens must be between 1 and 2048");
            completionRefused(Map.of("max_tokens", n), "max_tokens", "max_tokens must be between 1 and 2048");
        }
        assertRefused("/v1/completions", "{\"prompt\": \"a\", \"max_tokens\": 1e20}", 400, "max_tokens",
                "expected an integer, but got a decimal number");
        assertRefused("/v1/completions", "{\"prompt\": \"a\", \"max_tokens\": 99999999999}", 400, "max_tokens",
                "max_tokens must be between 1 and 2048");
    }

    @Test
    void stopStringsAreLimitedInNumberAndLength() {
        var many = new ArrayList<String>();
        for (int i = 0; i < 17; i++) {
            many.add("stop" + i);
        }
        chatRefused(Map.of("stop", many), "stop", "17 strings", "at most 16", "innerq.max-stop-sequences");
        completionRefused(Map.of("stop", "x".repeat(257)), "stop", "257 characters", "at most 256",
                "innerq.max-stop-length");
        completionRefused(Map.of("stop", List.of("a", "")), "stop", "non-empty strings");
    }

    @Test
    void everyOtherNumberIsChecked() {
        chatRefused(Map.of("n", 2), "n", "n must be 1");
        completionRefused(Map.of("n", 0), "n", "n must be 1");
        completionRefused(Map.of("best_of", 5), "best_of", "'best_of' other than 1");
        completionRefused(Map.of("logprobs", 5), "logprobs", "log probabilities");
        chatRefused(Map.of("temperature", -0.5), "temperature", "temperature must be a finite number of at least 0");
        chatRefused(Map.of("top_p", 1.5), "top_p", "top_p must be in (0, 1], got 1.5");
        chatRefused(Map.of("top_p", 0), "top_p", "top_p must be in (0, 1], got 0");
        chatRefused(Map.of("top_k", -1), "top_k", "top_k must be at least 0");
        chatRefused(Map.of("min_p", 1), "min_p", "min_p must be in [0, 1)");
        chatRefused(Map.of("repeat_penalty", 0), "repeat_penalty", "repeat_penalty must be greater than 0");
        chatRefused(Map.of("frequency_penalty", 0.5), "frequency_penalty", "no frequency penalty");
        chatRefused(Map.of("presence_penalty", -1), "presence_penalty", "no presence penalty");
        assertRefused("/v1/chat/completions", """
                {"messages": [{"role": "user", "content": "a"}], "temperature": "NaN"}""", 400, "temperature",
                "temperature must be a finite number", "got NaN"); // Jackson reads the string as NaN
        assertRefused("/v1/completions", "{\"prompt\": \"a\", \"seed\": 1e30}", 400, "seed",
                "expected an integer, but got a decimal number");
    }

    @Test
    void nestingAndNameLengthsAreBounded() {
        String deep = "[".repeat(2000) + "]".repeat(2000);
        assertRefused("/v1/completions", "{\"prompt\": " + deep + "}", 400, null, "could not parse the JSON body",
                "nesting depth");
        completionRefused(Map.of("kv_cache_mode", "q".repeat(5000)), "kv_cache_mode", "5000 characters");
        var r = http.post("/v1/completions", json(Map.of("prompt", "a", "model", "m".repeat(100_000))), TEST_KEY);
        assertThat(r.status()).isEqualTo(404);
        assertThat(r.json().path("error").path("message").asString()).contains("(100000 characters)").hasSizeLessThan(300);
    }
}
