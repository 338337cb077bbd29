package io.innerq.server;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.JsonNode;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static io.innerq.server.InnerqServiceTest.TEST_KEY;
import static io.innerq.server.OpenAiErrorShape.assertOpenAiError;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.SoftAssertions.assertSoftly;

/**
 * Every error of the API in OpenAI's shape, with the status, type, param and code OpenAI would answer, over the
 * running service: bodies that are not JSON or not of the right JSON types (param: the field as the client wrote
 * it), fields InnerQ does not implement (refused by name unless their value asks for nothing), unknown routes,
 * wrong methods, content types and {@code Accept} headers, and prompts over the context.
 */
@InnerqServiceTest
class OpenAiErrorTests {

    private static final String CHAT = "/v1/chat/completions";
    private static final String COMPLETIONS = "/v1/completions";
    private static final String USER = "{\"role\": \"user\", \"content\": \"Once upon a time\"}";

    @LocalServerPort
    int port;

    Http http;

    @BeforeEach
    void client() {
        http = new Http(port);
    }

    /** A chat body: one user message, 2 tokens, greedy, and {@code extra} fields. */
    private static String chat(String extra) {
        return "{\"messages\": [" + USER + "], \"max_tokens\": 2, \"temperature\": 0"
                + (extra.isEmpty() ? "" : ", " + extra) + "}";
    }

    private static String completion(String extra) {
        return "{\"prompt\": \"Once upon a time\", \"max_tokens\": 2, \"temperature\": 0"
                + (extra.isEmpty() ? "" : ", " + extra) + "}";
    }

    /** One request and what its error must say. */
    private record Case(String path, String body, int status, String param, String code, String... message) {
    }

    private void assertCases(List<Case> cases) {
        assertSoftly(soft -> {
            for (Case c : cases) {
                var r = http.post(c.path(), c.body(), TEST_KEY);
                soft.check(() -> {
                    JsonNode error = assertOpenAiError(r, c.status());
                    assertThat(error.path("param").isNull() ? null : error.path("param").asString())
                            .as("param of %s: %s", c.body(), r.body()).isEqualTo(c.param());
                    if (c.code() != null) {
                        assertThat(error.path("code").asString()).as("code of %s: %s", c.body(), r.body())
                                .isEqualTo(c.code());
                    }
                    assertThat(error.path("message").asString()).as("message of %s", c.body()).contains(c.message());
                });
            }
        });
    }

    @Test
    void wrongJsonTypesNameTheFieldAsTheClientWroteIt() {
        assertCases(List.of(
                new Case(CHAT, "{\"messages\": {\"role\": \"user\"}}", 400, "messages", "invalid_type",
                        "Invalid type for 'messages': expected an array, but got an object instead"),
                new Case(CHAT, "{\"messages\": [5]}", 400, "messages[0]", "invalid_type",
                        "expected an object, but got an integer instead"),
                new Case(CHAT, "{\"messages\": [null]}", 400, "messages[0]", "invalid_type",
                        "expected an object, but got null instead"),
                new Case(CHAT, "{\"messages\": [" + USER + ", {\"role\": 5, \"content\": \"a\"}]}", 400,
                        "messages[1].role", "invalid_type", "expected a string, but got an integer instead"),
                new Case(CHAT, "{\"messages\": [" + USER + ", {\"role\": \"user\", \"content\": 5}]}", 400,
                        "messages[1].content", "invalid_type",
                        "expected a string or an array of content parts, but got an integer instead"),
                new Case(CHAT, "{\"messages\": [{\"role\": \"user\", \"content\": [\"a\"]}]}", 400,
                        "messages[0].content[0]", "invalid_type", "expected an object, but got a string instead"),
                new Case(CHAT, chat("\"max_tokens\": {}").replace("\"max_tokens\": 2, ", ""), 400, "max_tokens",
                        "invalid_type", "Invalid type for 'max_tokens': expected an integer, but got an object instead"),
                new Case(CHAT, chat("").replace("2", "\"2\""), 400, "max_tokens", "invalid_type",
                        "expected an integer, but got a string instead"),
                new Case(CHAT, chat("").replace("2", "1.5"), 400, "max_tokens", "invalid_type",
                        "expected an integer, but got a decimal number instead"),
                new Case(CHAT, chat("\"stream\": \"yes\""), 400, "stream", "invalid_type",
                        "expected a boolean, but got a string instead"),
                new Case(CHAT, chat("\"stream\": 1"), 400, "stream", "invalid_type",
                        "expected a boolean, but got an integer instead"),
                new Case(CHAT, chat("\"model\": 5"), 400, "model", "invalid_type",
                        "expected a string, but got an integer instead"),
                new Case(CHAT, chat("\"temperature\": \"hot\"").replace("\"temperature\": 0, ", ""), 400,
                        "temperature", "invalid_type", "expected a number, but got a string instead"),
                new Case(CHAT, chat("\"seed\": 1e30"), 400, "seed", "invalid_type",
                        "expected an integer, but got a decimal number instead"),
                new Case(CHAT, chat("\"seed\": 99999999999999999999"), 400, "seed", "integer_above_max_value",
                        "9223372036854775807"),
                new Case(CHAT, chat("\"stream_options\": 5"), 400, "stream_options", "invalid_type",
                        "expected an object, but got an integer instead"),
                new Case(CHAT, chat("\"stream_options\": {\"include_usage\": \"yes\"}"), 400,
                        "stream_options.include_usage", "invalid_type", "expected a boolean"),
                new Case(CHAT, chat("\"response_format\": \"json\""), 400, "response_format", "invalid_type",
                        "expected an object, but got a string instead"),
                new Case(CHAT, chat("\"stop\": 5"), 400, "stop", "invalid_type",
                        "expected a string or an array of strings, but got an integer instead"),
                new Case(CHAT, chat("\"presence_penalty\": \"x\""), 400, "presence_penalty", "invalid_type",
                        "expected a number, but got a string instead"),
                new Case(COMPLETIONS, completion("\"echo\": \"x\""), 400, "echo", "invalid_type",
                        "expected a boolean, but got a string instead"),
                new Case(COMPLETIONS, completion("\"kv_cache_mode\": 3"), 400, "kv_cache_mode", "invalid_type",
                        "expected a string, but got an integer instead"),
                new Case(COMPLETIONS, "{\"prompt\": [1, 2, 3]}", 400, "prompt", null, "token arrays"),
                new Case(CHAT, "[]", 400, null, "invalid_type",
                        "the request body must be a JSON object, but got an array instead"),
                new Case(CHAT, "\"hi\"", 400, null, "invalid_type",
                        "the request body must be a JSON object, but got a string instead")));
    }

    @Test
    void valuesOutOfRangeNameTheFieldAndTheRange() {
        assertCases(List.of(
                new Case(CHAT, chat("").replace("2", "99999999999"), 400, "max_tokens", "integer_above_max_value",
                        "max_tokens must be between 1 and 2048"),
                new Case(CHAT, chat("").replace("2", "0"), 400, "max_tokens", "integer_below_min_value",
                        "max_tokens must be between 1 and 2048"),
                new Case(CHAT, chat("\"max_completion_tokens\": -3"), 400, "max_completion_tokens",
                        "integer_below_min_value", "max_completion_tokens must be between 1 and 2048"),
                new Case(CHAT, chat("").replace("\"temperature\": 0", "\"temperature\": -1"), 400, "temperature",
                        "decimal_below_min_value", "temperature must be"),
                new Case(CHAT, chat("").replace("\"temperature\": 0", "\"temperature\": 1e400"), 400, "temperature",
                        "decimal_above_max_value", "temperature must be"),
                new Case(CHAT, chat("\"top_p\": 2"), 400, "top_p", "decimal_above_max_value",
                        "top_p must be in (0, 1]"),
                new Case(CHAT, chat("\"top_p\": 0"), 400, "top_p", "decimal_below_min_value",
                        "top_p must be in (0, 1]"),
                new Case(CHAT, chat("\"top_k\": -1"), 400, "top_k", "integer_below_min_value",
                        "top_k must be at least 0"),
                new Case(CHAT, chat("\"min_p\": 1"), 400, "min_p", "decimal_above_max_value",
                        "min_p must be in [0, 1)"),
                new Case(CHAT, chat("\"repeat_penalty\": 0"), 400, "repeat_penalty", "decimal_below_min_value",
                        "repeat_penalty must be greater than 0"),
                new Case(CHAT, chat("\"repetition_penalty\": -2"), 400, "repetition_penalty",
                        "decimal_below_min_value", "repetition_penalty must be greater than 0"),
                new Case(CHAT, chat("\"n\": 2"), 400, "n", "unsupported_value", "n must be 1"),
                new Case(CHAT, "{\"messages\": []}", 400, "messages", "empty_array", "at least one message"),
                new Case(CHAT, "{\"max_tokens\": 2}", 400, "messages", "missing_required_parameter",
                        "Missing required parameter: 'messages'"),
                new Case(CHAT, "{\"messages\": [{\"content\": \"a\"}]}", 400, "messages[0].role",
                        "missing_required_parameter", "Missing required parameter: 'messages[0].role'"),
                new Case(CHAT, "{\"messages\": [{\"role\": \"robot\", \"content\": \"a\"}]}", 400,
                        "messages[0].role", "invalid_value", "'robot'", "system, developer, user and assistant"),
                new Case(COMPLETIONS, "{\"max_tokens\": 2}", 400, "prompt", "missing_required_parameter",
                        "Missing required parameter: 'prompt'"),
                new Case(COMPLETIONS, completion("\"kv_cache_mode\": \"q9\""), 400, "kv_cache_mode", "invalid_value",
                        "q9")));
    }

    @Test
    void promptsOverTheContextNameThePromptOrTheTokenLimit() {
        String story = "Once upon a time there was a girl. ".repeat(300);
        assertCases(List.of(
                new Case(CHAT, "{\"messages\": [{\"role\": \"user\", \"content\": \"" + story + "\"}]}", 400,
                        "messages", "context_length_exceeded", "the context holds 2048"),
                new Case(COMPLETIONS, "{\"prompt\": \"" + story + "\"}", 400, "prompt", "context_length_exceeded",
                        "the context holds 2048"),
                new Case(COMPLETIONS, completion("").replace("2", "2045"), 400, "max_tokens",
                        "context_length_exceeded", "ask for at most 2043 tokens")));
    }

    @Test
    void malformedJsonSaysWhere() {
        assertCases(List.of(
                new Case(CHAT, "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"]}", 400, null, null,
                        "could not parse the JSON body", "line 1, column 47", "messages[0]"),
                new Case(CHAT, "{\n  \"messages\": [" + USER + "],\n  \"max_tokens\": 2,\n}", 400, null, null,
                        "could not parse the JSON body", "line 4, column 1"),
                new Case(CHAT, "{\"messages\": [" + USER + "]", 400, null, null, "could not parse the JSON body",
                        "ends before"),
                new Case(CHAT, "{\"messages\": [" + USER + "]} {}", 400, null, null,
                        "more after the JSON object"),
                new Case(CHAT, chat("").replace("0}", "NaN}"), 400, null, null, "could not parse the JSON body",
                        "'NaN'"),
                new Case(CHAT, "{\"messages\": [" + USER + "], \"max_tokens\": 2\u0000}", 400, null, null,
                        "could not parse the JSON body", "line 1, column"),
                new Case(COMPLETIONS, "{\"prompt\": " + "[".repeat(2000) + "]".repeat(2000) + "}", 400, null, null,
                        "nesting depth", "500"),
                new Case(CHAT, "", 400, null, null, "the request body is empty"),
                new Case(CHAT, "null", 400, null, null, "the request body is empty"),
                new Case(CHAT, "   ", 400, null, null, "the request body is empty")));
        var invalidUtf8 = http.send("POST", CHAT, "application/json", null,
                concat("{\"messages\": [{\"role\": \"user\", \"content\": \"".getBytes(StandardCharsets.UTF_8),
                        new byte[]{(byte) 0xff, (byte) 0xfe}, "\"}]}".getBytes(StandardCharsets.UTF_8)), TEST_KEY);
        assertThat(assertOpenAiError(invalidUtf8, 400).path("message").asString())
                .contains("could not parse the JSON body", "UTF-8");
    }

    private static byte[] concat(byte[]... parts) {
        var out = new java.io.ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    @Test
    void fieldsInnerqDoesNotImplementAreRefusedByNameUnlessTheyAskForNothing() {
        var refused = new ArrayList<Case>();
        for (String field : new String[]{"\"logit_bias\": {\"50256\": -100}", "\"presence_penalty\": 0.5",
                "\"frequency_penalty\": -1", "\"logprobs\": true", "\"top_logprobs\": 2",
                "\"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\"}}]", "\"tool_choice\": \"required\"",
                "\"functions\": [{\"name\": \"f\"}]", "\"function_call\": {\"name\": \"f\"}",
                "\"response_format\": {\"type\": \"json_object\"}", "\"store\": true", "\"service_tier\": \"flex\"",
                "\"modalities\": [\"text\", \"audio\"]", "\"audio\": {\"voice\": \"alloy\", \"format\": \"wav\"}",
                "\"prediction\": {\"type\": \"content\", \"content\": \"x\"}", "\"reasoning_effort\": \"high\"",
                "\"verbosity\": \"low\"", "\"web_search_options\": {}", "\"n\": 3"}) {
            String name = field.substring(1, field.indexOf('"', 1));
            refused.add(new Case(CHAT, chat(field), 400, name, name.equals("n") ? "unsupported_value"
                    : "unsupported_parameter", "'" + name + "'", "not supported"));
        }
        refused.add(new Case(CHAT, chat("\"stream_options\": {\"include_obfuscation\": true}"), 400,
                "stream_options.include_obfuscation", "unsupported_parameter", "not supported"));
        refused.add(new Case(CHAT, "{\"messages\": [{\"role\": \"user\", \"content\": \"a\", \"name\": \"bob\"}]}",
                400, "messages[0].name", "unsupported_parameter", "not supported"));
        refused.add(new Case(CHAT, "{\"messages\": [{\"role\": \"assistant\", \"content\": null, \"tool_calls\": "
                + "[{\"id\": \"1\", \"type\": \"function\"}]}]}", 400, "messages[0].tool_calls",
                "unsupported_parameter", "not supported"));
        refused.add(new Case(CHAT, "{\"messages\": [{\"role\": \"tool\", \"content\": \"a\", \"tool_call_id\": \"1\"}]}",
                400, "messages[0].role", "unsupported_value", "'tool'", "not supported"));
        refused.add(new Case(CHAT, "{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"image_url\", "
                + "\"image_url\": {\"url\": \"http://x\"}}]}]}", 400, "messages[0].content[0].type",
                "unsupported_value", "image_url", "not supported"));
        for (String field : new String[]{"\"logit_bias\": {\"7\": 5}", "\"best_of\": 2", "\"suffix\": \"x\"",
                "\"logprobs\": 1", "\"presence_penalty\": 1"}) {
            String name = field.substring(1, field.indexOf('"', 1));
            refused.add(new Case(COMPLETIONS, completion(field), 400, name, name.equals("best_of")
                    ? "unsupported_value" : "unsupported_parameter", "'" + name + "'", "not supported"));
        }
        // numbers past 64 bits or past a double (found by OpenAiRequestMutationTests: a 500 before)
        refused.add(new Case(COMPLETIONS, completion("\"best_of\": 9223372036854775808"), 400, "best_of",
                "unsupported_value", "'best_of'", "not supported"));
        refused.add(new Case(CHAT, chat("\"presence_penalty\": 1e400"), 400, "presence_penalty",
                "unsupported_parameter", "'presence_penalty'", "not supported"));
        refused.add(new Case(CHAT, chat("\"top_logprobs\": -99999999999999999999999"), 400, "top_logprobs",
                "unsupported_parameter", "'top_logprobs'", "not supported"));
        // unknown fields: refused by name, wherever they are
        refused.add(new Case(CHAT, chat("\"temprature\": 0.5"), 400, "temprature", "unknown_parameter",
                "'temprature'"));
        refused.add(new Case(CHAT, "{\"messages\": [{\"role\": \"user\", \"content\": \"a\", \"colour\": 1}]}", 400,
                "messages[0].colour", "unknown_parameter", "'messages[0].colour'"));
        refused.add(new Case(CHAT, chat("\"stream_options\": {\"include_usage\": true, \"x\": 1}"), 400,
                "stream_options.x", "unknown_parameter", "'stream_options.x'"));
        refused.add(new Case(CHAT, "{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"text\", "
                + "\"text\": \"a\", \"cache\": true}]}]}", 400, "messages[0].content[0].cache", "unknown_parameter",
                "'messages[0].content[0].cache'"));
        refused.add(new Case(COMPLETIONS, completion("\"n_predict\": 5"), 400, "n_predict", "unknown_parameter",
                "'n_predict'"));
        assertCases(refused);
    }

    @Test
    void fieldsThatAskForNothingAreAccepted() {
        for (String field : new String[]{"\"logit_bias\": {}", "\"logit_bias\": null", "\"presence_penalty\": 0",
                "\"frequency_penalty\": 0.0", "\"n\": 1", "\"logprobs\": false", "\"top_logprobs\": 0",
                "\"tools\": []", "\"tool_choice\": \"none\"", "\"tool_choice\": \"auto\"",
                "\"parallel_tool_calls\": true", "\"functions\": []", "\"function_call\": \"none\"",
                "\"response_format\": {\"type\": \"text\"}", "\"store\": false", "\"metadata\": {\"k\": \"v\"}",
                "\"user\": \"u-1\"", "\"safety_identifier\": \"s\"", "\"prompt_cache_key\": \"k\"",
                "\"service_tier\": \"auto\"", "\"service_tier\": \"default\"", "\"modalities\": [\"text\"]",
                "\"audio\": null", "\"prediction\": null", "\"reasoning_effort\": null", "\"web_search_options\": null",
                "\"stream_options\": {\"include_usage\": false, \"include_obfuscation\": false}",
                "\"stop\": null", "\"seed\": -5", "\"top_k\": 99999999999", "\"max_completion_tokens\": 2"}) {
            var r = http.post(CHAT, chat(field), TEST_KEY);
            assertThat(r.status()).as("%s: %s", field, r.body()).isEqualTo(200);
        }
        var parts = http.post(CHAT, "{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"text\", "
                + "\"text\": \"Once\"}], \"name\": null}, {\"role\": \"assistant\", \"content\": \"a\", "
                + "\"tool_calls\": [], \"refusal\": null}], \"max_tokens\": 2}", TEST_KEY);
        assertThat(parts.status()).as(parts.body()).isEqualTo(200);
        for (String field : new String[]{"\"best_of\": 1", "\"suffix\": \"\"", "\"logprobs\": 0", "\"logprobs\": null",
                "\"echo\": false", "\"user\": \"u\"", "\"logit_bias\": {}"}) {
            var r = http.post(COMPLETIONS, completion(field), TEST_KEY);
            assertThat(r.status()).as("%s: %s", field, r.body()).isEqualTo(200);
        }
    }

    @Test
    void unknownRoutesAreOpenAi404s() {
        for (String path : new String[]{"/v1/nothing", "/v1/chat/completionss", "/v1/embeddings", "/v1/models/x/y"}) {
            var r = http.send("GET", path, null, TEST_KEY);
            JsonNode error = assertOpenAiError(r, 404);
            assertThat(error.path("code").asString()).isEqualTo("unknown_url");
            assertThat(error.path("message").asString()).contains("GET " + path);
        }
        for (String path : new String[]{"/", "/nothing", "/error", "/actuator/env"}) {
            var r = http.send("GET", path, null, null);
            assertThat(assertOpenAiError(r, 404).path("code").asString()).as(path).isEqualTo("unknown_url");
        }
        var longPath = http.send("GET", "/v1/" + "x".repeat(5000), null, TEST_KEY);
        assertThat(assertOpenAiError(longPath, 404).path("message").asString().length()).isLessThan(400);
    }

    @Test
    void urlsTomcatRefusesBeforeTheApplicationAreOpenAi400s() {
        for (String path : new String[]{"/v1/models/%2Fetc%2Fpasswd", "/v1/models/..%5C..%5Cx", "/v1/%zz",
                "/v1/models/a%00b", "/v1/../../etc/passwd"}) {
            String[] r = rawGet(path);
            assertThat(r[0]).as(path + ": " + r[2]).isIn("400", "404");
            assertOpenAiError(Integer.parseInt(r[0]), r[1], r[2]);
        }
    }

    /** A GET of {@code path} exactly as written (no client-side checks): status, Content-Type and body. */
    private String[] rawGet(String path) {
        try (var socket = new java.net.Socket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
                    + TEST_KEY + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            String head = answer.substring(0, answer.indexOf("\r\n\r\n"));
            String body = answer.substring(head.length() + 4);
            String type = head.lines().filter(l -> l.regionMatches(true, 0, "Content-Type:", 0, 13))
                    .map(l -> l.substring(13).strip()).findFirst().orElse("");
            if (head.toLowerCase(java.util.Locale.ROOT).contains("transfer-encoding: chunked")) {
                body = body.substring(body.indexOf("\r\n") + 2, body.lastIndexOf("\r\n0\r\n"));
            }
            return new String[]{head.split(" ")[1], type, body};
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void wrongMethodsAreOpenAi405sThatSayWhichMethodsAreTaken() {
        String[][] cases = {{"GET", CHAT, "POST"}, {"PUT", COMPLETIONS, "POST"}, {"DELETE", CHAT, "POST"},
                {"POST", "/v1/models", "GET"}, {"PATCH", "/v1/models/stories260K", "GET"}};
        for (String[] c : cases) {
            var r = http.send(c[0], c[1], c[0].equals("GET") ? null : "{}", TEST_KEY);
            JsonNode error = assertOpenAiError(r, 405);
            assertThat(error.path("code").asString()).isEqualTo("method_not_allowed");
            assertThat(error.path("message").asString()).contains(c[0] + " " + c[1], c[2]);
            assertThat(r.raw().headers().firstValue("Allow")).as("Allow of %s %s", c[0], c[1])
                    .hasValueSatisfying(v -> assertThat(v).contains(c[2]));
        }
    }

    @Test
    void wrongContentTypesAreOpenAi415s() {
        byte[] body = chat("").getBytes(StandardCharsets.UTF_8);
        for (String type : new String[]{"text/plain", "application/x-www-form-urlencoded", "application/xml", null,
                "application/json; charset=bogus-charset"}) {
            var r = http.send("POST", CHAT, type, null, body, TEST_KEY);
            JsonNode error = assertOpenAiError(r, 415);
            assertThat(error.path("code").asString()).as(String.valueOf(type)).isEqualTo("unsupported_media_type");
            assertThat(error.path("message").asString()).contains("Content-Type: application/json");
        }
        assertThat(http.send("POST", CHAT, "application/json; charset=utf-8", null, body, TEST_KEY).status())
                .isEqualTo(200);
    }

    @Test
    void unacceptableAcceptHeadersAreOpenAi406s() {
        byte[] body = chat("").getBytes(StandardCharsets.UTF_8);
        var chat = http.send("POST", CHAT, "application/json", "text/html", body, TEST_KEY);
        JsonNode error = assertOpenAiError(chat, 406);
        assertThat(error.path("code").asString()).isEqualTo("not_acceptable");
        assertThat(error.path("message").asString()).contains("application/json", "text/html");
        assertThat(assertOpenAiError(http.send("GET", "/v1/models", null, "image/png", null, TEST_KEY), 406)
                .path("code").asString()).isEqualTo("not_acceptable");
        // what clients send is taken: the SDKs' application/json, also for streams, and text/event-stream
        assertThat(http.send("POST", CHAT, "application/json", "application/json",
                chat("\"stream\": true").getBytes(StandardCharsets.UTF_8), TEST_KEY).status()).isEqualTo(200);
        assertThat(http.send("POST", CHAT, "application/json", "text/event-stream",
                chat("\"stream\": true").getBytes(StandardCharsets.UTF_8), TEST_KEY).status()).isEqualTo(200);
    }

    @Test
    void authFailuresAndOversizedBodiesAreOpenAiErrorsToo() {
        for (String key : new String[]{null, "wrong"}) {
            JsonNode error = assertOpenAiError(http.post(CHAT, chat(""), key), 401);
            assertThat(error.path("code").asString()).isEqualTo("invalid_api_key");
        }
        String big = chat("\"user\": \"" + "x".repeat(1_100_000) + "\"");
        assertThat(assertOpenAiError(http.post(CHAT, big, TEST_KEY), 413).path("code").asString())
                .isEqualTo("request_too_large");
        assertThat(assertOpenAiError(http.postChunked(CHAT, big, TEST_KEY), 413).path("code").asString())
                .isEqualTo("request_too_large");
    }
}
