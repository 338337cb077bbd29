package io.innerq.cli;

import io.innerq.testing.TestModels;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code innerq serve}: starts the service, serves, stops; startup errors say what to set. */
class ServeCommandTests {

    private final String stories = TestModels.stories260K().toString();

    @Test
    void serveStartsTheServiceAndReturnsWhenItStops() {
        var err = new ByteArrayOutputStream();
        var answers = new ArrayList<String>();
        int status = ServeCommand.run(List.of("--model", stories, "--port", "0", "--spring.ai.innerq.kv.budget=16MB"),
                new PrintStream(err, true, StandardCharsets.UTF_8), context -> {
                    String port = context.getEnvironment().getProperty("local.server.port");
                    try (var http = HttpClient.newHttpClient()) {
                        for (String path : List.of("/actuator/health/readiness", "/v1/models")) {
                            var r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                                    .build(), HttpResponse.BodyHandlers.ofString());
                            answers.add(r.statusCode() + " " + r.body());
                        }
                    } catch (Exception e) {
                        answers.add(e.toString());
                    } finally {
                        context.close();
                    }
                });
        assertThat(status).as(err.toString(StandardCharsets.UTF_8)).isZero();
        assertThat(answers).hasSize(2);
        assertThat(answers.get(0)).startsWith("200 ").contains("\"UP\"");
        assertThat(answers.get(1)).startsWith("200 ").contains("\"stories260K\"");
    }

    @Test
    void aMissingModelSaysWhatToSet() {
        CliTests.Run r = CliTests.run("serve", "--model", "/nonexistent/model.gguf", "--port", "0");
        assertThat(r.status()).isEqualTo(1);
        assertThat(r.err()).contains("the service did not start", "/nonexistent/model.gguf", "Set spring.ai.innerq.model");
    }

    @Test
    void aTruncatedModelSaysWhatIsWrongAndWhatToDo(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws java.io.IOException {
        var truncated = dir.resolve("truncated.gguf");
        byte[] whole = java.nio.file.Files.readAllBytes(java.nio.file.Path.of(stories));
        java.nio.file.Files.write(truncated, java.util.Arrays.copyOf(whole, whole.length / 2));
        CliTests.Run r = CliTests.run("serve", "--model", truncated.toString(), "--port", "0");
        assertThat(r.status()).isEqualTo(1);
        assertThat(r.err()).contains("the service did not start", "truncated.gguf", "the file is truncated or corrupt");
    }

    @Test
    void aBadPropertyIsNamed() {
        CliTests.Run r = CliTests.run("serve", "--model", stories, "--port", "0", "--spring.ai.innerq.kv.mode=innerq-7");
        assertThat(r.status()).isEqualTo(1);
        assertThat(r.err()).contains("spring.ai.innerq.kv.mode: unknown KV cache mode 'innerq-7'");
    }

    @Test
    void listeningBeyondLoopbackWithoutApiKeysIsRefused() {
        CliTests.Run r = CliTests.run("serve", "--model", stories, "--port", "0", "--host", "0.0.0.0");
        assertThat(r.status()).isEqualTo(1);
        assertThat(r.err()).contains("listens on 0.0.0.0, beyond loopback", "innerq.api-keys",
                "innerq.require-api-keys=false");
    }

    @Test
    void shortOptionsBecomeSpringProperties() {
        assertThat(ServeCommand.springArguments(List.of("--model", "m.gguf", "--port=9000", "--host", "::1",
                "--spring.ai.innerq.kv.mode=fp16"))).containsExactly("--spring.ai.innerq.model=m.gguf", "--server.port=9000",
                "--server.address=::1", "--spring.ai.innerq.kv.mode=fp16");
        assertThatThrownBy(() -> ServeCommand.springArguments(List.of("--port")))
                .hasMessageContaining("--port needs a value");
    }
}
