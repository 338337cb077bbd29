package io.innerq.server;

import io.innerq.serving.InnerqEngine;
import io.innerq.testing.TestModels;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.ApplicationContext;
import org.springframework.web.method.HandlerMethod;
import org.springframework.web.servlet.HandlerMapping;
import org.springframework.web.servlet.handler.AbstractUrlHandlerMapping;
import org.springframework.web.servlet.mvc.method.RequestMappingInfo;
import org.springframework.web.servlet.mvc.method.RequestMappingInfoHandlerMapping;
import org.springframework.web.servlet.function.support.RouterFunctionMapping;
import tools.jackson.databind.JsonNode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static io.innerq.server.InnerqServiceTest.TEST_KEY;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The running service's attack surface: every request mapping it has, API keys on every {@code /v1} endpoint, the
 * actuator endpoints that stay open for probes and scraping, and model names that look like files.
 */
@InnerqServiceTest
class ApiSecurityTests {

    /** Every request mapping of the service, as "METHODS pattern" (no methods: any). */
    private static final Set<String> EXPECTED_MAPPINGS = Set.of(
            "GET /v1/models",
            "GET /v1/models/{id}",
            "POST /v1/chat/completions",
            "POST /v1/completions",
            "* /error",
            "GET /actuator",
            "GET /actuator/health",
            "GET /actuator/health/**",
            "GET /actuator/info",
            "GET /actuator/metrics",
            "GET /actuator/metrics/{requiredMetricName}",
            "GET /actuator/prometheus");

    @LocalServerPort
    int port;

    @Autowired
    ApplicationContext context;

    @Autowired
    InnerqEngine engine;

    Http http;

    @BeforeEach
    void client() {
        http = new Http(port);
    }

    @Test
    void theServiceHasExactlyTheExpectedEndpoints() {
        assertThat(mappings(context)).isEqualTo(new TreeSet<>(EXPECTED_MAPPINGS));
    }

    @Test
    void everyV1EndpointAnswers401WithoutTheKeyOrWithAWrongOne() {
        var v1 = mappings(context).stream().filter(m -> m.contains(" /v1/")).toList();
        assertThat(v1).hasSize(4);
        for (String mapping : v1) {
            String method = mapping.substring(0, mapping.indexOf(' '));
            String path = mapping.substring(mapping.indexOf(' ') + 1).replace("{id}", "stories260K");
            String body = method.equals("POST") ? "{\"prompt\": \"a\", \"messages\": []}" : null;
            for (String key : new String[]{null, "wrong-key", "", TEST_KEY.toUpperCase(), TEST_KEY + "x"}) {
                var r = http.send(method, path, body, key);
                assertThat(r.status()).as("%s %s with key '%s': %s", method, path, key, r.body()).isEqualTo(401);
                assertThat(r.json().path("error").path("code").asString()).isEqualTo("invalid_api_key");
                assertThat(r.raw().headers().firstValue("WWW-Authenticate")).hasValue("Bearer");
            }
        }
        // paths the service does not have are refused before they are looked up
        for (String path : new String[]{"/v1/embeddings", "/v1/files", "/v1/", "/v1/models/a/../../files"}) {
            assertThat(http.send("GET", path, null, null).status()).as(path).isEqualTo(401);
        }
        assertThat(http.get("/v1/models", TEST_KEY).status()).isEqualTo(200);
    }

    @Test
    void probesAndScrapesStayOpenWithoutAKey() {
        for (String path : new String[]{"/actuator/health", "/actuator/health/liveness", "/actuator/health/readiness",
                "/actuator/info", "/actuator/prometheus", "/actuator/metrics"}) {
            var r = http.get(path, null);
            assertThat(r.status()).as(path + ": " + r.body()).isEqualTo(200);
        }
        for (String path : new String[]{"/actuator/env", "/actuator/beans", "/actuator/heapdump",
                "/actuator/threaddump", "/actuator/shutdown", "/actuator/configprops", "/actuator/loggers"}) {
            assertThat(http.get(path, null).status()).as(path).isEqualTo(404);
        }
        assertThat(http.send("POST", "/actuator/shutdown", "{}", null).status()).isIn(404, 405);
    }

    @Test
    void aModelNamedLikeAFileIsOnlyComparedWithTheLoadedModelsName(@TempDir Path dir) throws Exception {
        // a real, loadable model at the named path: had any name been opened, the request would be served
        Path canary = Files.copy(TestModels.stories260K(), dir.resolve("canary.gguf"));
        Path cwd = Path.of("").toAbsolutePath();
        String relative = cwd.relativize(canary).toString();
        var loaded = engine.model().file();
        for (String model : new String[]{"/etc/passwd", "../../x.gguf", "file:///etc/passwd", canary.toString(),
                "file://" + canary, relative, "canary", "canary.gguf", "/work/shared/models/stories260K.gguf",
                "../shared/models/stories260K.gguf", "http://127.0.0.1:" + port + "/v1/models", "\\\\host\\share",
                "stories260K\u0000.gguf", "x".repeat(10_000)}) {
            String name = Http.JSON.writeValueAsString(model);
            for (var request : Map.of(
                    "/v1/chat/completions", "{\"model\": %s, \"messages\": [{\"role\": \"user\", \"content\": \"a\"}]}",
                    "/v1/completions", "{\"model\": %s, \"prompt\": \"a\"}").entrySet()) {
                var r = http.post(request.getKey(), request.getValue().formatted(name), TEST_KEY);
                assertThat(r.status()).as("%s with model %s: %s", request.getKey(), name, r.body()).isEqualTo(404);
                JsonNode error = r.json().path("error");
                assertThat(error.path("code").asString()).isEqualTo("model_not_found");
                assertThat(error.path("param").asString()).isEqualTo("model");
                assertThat(error.path("message").asString()).contains("this server runs 'stories260K'");
                assertThat(error.path("message").asString().length()).isLessThan(300);
            }
        }
        for (String path : new String[]{"/v1/models/canary", "/v1/models/%2Fetc%2Fpasswd",
                "/v1/models/..%2F..%2Fx.gguf", "/v1/models/file:%2F%2F%2Fetc%2Fpasswd"}) {
            var r = http.get(path, TEST_KEY);
            assertThat(r.status()).as(path + ": " + r.body()).isIn(400, 404);
        }
        var kvMode = http.post("/v1/completions", """
                {"prompt": "a", "kv_cache_mode": "/etc/passwd"}""", TEST_KEY);
        assertThat(kvMode.status()).as(kvMode.body()).isEqualTo(400);
        assertThat(engine.model().file()).isEqualTo(loaded);
        assertThat(http.post("/v1/completions", """
                {"model": "stories260K", "prompt": "Once upon a time", "max_tokens": 3}""", TEST_KEY).status())
                .isEqualTo(200);
    }

    @Test
    void requestsCannotMultiplyMetricSeries() {
        String series = "http_server_requests_seconds_count{";
        long before = http.get("/actuator/prometheus", null).body().lines().filter(l -> l.startsWith(series)).count();
        for (int i = 0; i < 10; i++) {
            http.send("METHOD" + i, "/v1/models", null, TEST_KEY);
            http.send("GET", "/nothing-here-" + i, null, null);
            http.send("GET", "/v1/nothing-here-" + i, null, TEST_KEY);
            http.send("GET", "/v1/models/model-" + i, null, TEST_KEY);
        }
        var scrape = http.get("/actuator/prometheus", null).body().lines().filter(l -> l.startsWith(series)).toList();
        assertThat(scrape.size() - before).as(String.join("\n", scrape)).isLessThan(10);
        assertThat(scrape).noneMatch(l -> l.contains("METHOD1") || l.contains("nothing-here") || l.contains("model-1"));
    }

    /** Every request mapping of every handler mapping in {@code context}. */
    static Set<String> mappings(ApplicationContext context) {
        var all = new TreeSet<String>();
        for (HandlerMapping mapping : context.getBeansOfType(HandlerMapping.class).values()) {
            switch (mapping) {
                case RequestMappingInfoHandlerMapping info -> {
                    for (Map.Entry<RequestMappingInfo, HandlerMethod> e : info.getHandlerMethods().entrySet()) {
                        var methods = e.getKey().getMethodsCondition().getMethods();
                        String verbs = methods.isEmpty() ? "*" : String.join(",",
                                methods.stream().map(Enum::name).sorted().toList());
                        for (String pattern : e.getKey().getPatternValues()) {
                            all.add(verbs + " " + pattern);
                        }
                    }
                }
                case AbstractUrlHandlerMapping url -> url.getHandlerMap().keySet().forEach(p -> all.add("* " + p));
                case RouterFunctionMapping router -> {
                    if (router.getRouterFunction() != null) {
                        all.add("router " + router.getRouterFunction());
                    }
                }
                default -> all.add("unknown " + mapping.getClass().getName());
            }
        }
        return all;
    }
}
