package io.innerq.server;

import tools.jackson.databind.JsonNode;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What every error answer of the API must be: JSON of OpenAI's shape, {@code {"error": {"message", "type", "param",
 * "code"}}} and nothing else, with a message that speaks of the request and names nothing of the implementation.
 */
final class OpenAiErrorShape {

    /** Names of the implementation: Java and Jackson packages and types, exception names, record paths. */
    static final Pattern IMPLEMENTATION = Pattern.compile(
            "java\\.|javax\\.|jakarta\\.|Exception|io\\.innerq|com\\.fasterxml|tools\\.jackson|org\\.springframework"
                    + "|OpenAiApi|\\$[A-Z]|\\w\\[\"|JsonToken|StreamRead|JsonReadFeature|DeserializationFeature"
                    + "|CoercionConfig|Creator|deserializ|`|\\bat [a-z]+\\.[a-z]+\\.|REDACTED|Source:");

    /** The error types OpenAI's API answers with, as it uses them (401 and 404 are invalid_request_error too). */
    static final Set<String> TYPES = Set.of("invalid_request_error", "rate_limit_error", "server_error");

    private OpenAiErrorShape() {
    }

    /**
     * Asserts that {@code r} is an OpenAI error with {@code status}; returns its {@code error} object.
     */
    static JsonNode assertOpenAiError(Http.Response r, int status) {
        assertThat(r.status()).as(r.body()).isEqualTo(status);
        return assertOpenAiError(r.status(), r.raw().headers().firstValue("Content-Type").orElse(""), r.body());
    }

    static JsonNode assertOpenAiError(int status, String contentType, String body) {
        assertThat(contentType).as("Content-Type of a %d: %s", status, body).startsWith("application/json");
        JsonNode json = Http.JSON.readTree(body);
        assertThat(names(json)).as(body).containsExactly("error");
        JsonNode error = json.path("error");
        assertThat(names(error)).as(body).containsExactlyInAnyOrder("message", "type", "param", "code");
        assertThat(error.path("message").isString()).as(body).isTrue();
        assertThat(error.path("message").asString()).as(body).isNotBlank();
        assertThat(error.path("type").asString()).as(body).isIn(TYPES);
        assertThat(error.path("param").isNull() || error.path("param").isString()).as(body).isTrue();
        assertThat(error.path("code").isNull() || error.path("code").isString()).as(body).isTrue();
        assertThat(IMPLEMENTATION.matcher(body).find()).as("names of the implementation in %s", body).isFalse();
        return error;
    }

    private static List<String> names(JsonNode node) {
        return new TreeSet<>(node.propertyNames()).stream().toList();
    }
}
