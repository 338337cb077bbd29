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
    void aMissingModelIsOneLineThatSaysWhatToDo() {
        CliTests.Run r = CliTests.run("serve", "--model", "/nonexistent/model.gguf", "--port", "0");
        assertThat(r.status()).isEqualTo(1);
        assertThat(r.err().lines()).hasSize(1);
        assertThat(r.err()).contains("/nonexistent/model.gguf", "--model", "innerq pull NAME");
    }

    @Test
    void unknownOptionsAndPropertiesAreRejectedInOneLineBeforeAnythingLoads() {
        for (String[] args : new String[][]{{"--prot", "9000"}, {"--innerq.kv.budgte=1GB"},
                {"--spring.ai.innerq.kv.budgte=1GB"}, {"--spring.ai.innerq.nonsense=1"}, {"9000"}, {"-p", "9"}}) {
            var line = new java.util.ArrayList<>(List.of("serve", "--model", stories));
            line.addAll(List.of(args));
            CliTests.Run r = CliTests.run(line.toArray(String[]::new));
            assertThat(r.status()).as(String.join(" ", args) + ": " + r.err()).isEqualTo(2);
            assertThat(r.err().lines().findFirst().orElseThrow()).startsWith("innerq: ").contains(args[0].split("=")[0]);
            assertThat(r.err()).doesNotContain("\tat ", "APPLICATION FAILED");
        }
        assertThat(CliTests.run("serve", "--prot", "9000").err()).contains("--port");
        assertThat(CliTests.run("serve", "--innerq.kv.budgte=1GB").err())
                .contains("did you mean --spring.ai.innerq.kv.budget?");
        assertThat(CliTests.run("serve", "--innerq.max-mesages=3").err())
                .contains("did you mean --innerq.max-messages?");
    }

    @Test
    void malformedValuesAreUsageErrorsThatNameTheOption() {
        String[][] cases = {{"--port", "-1", "--port must be between 0 and 65535"},
                {"--port", "70000", "--port must be between 0 and 65535"},
                {"--port", "nine", "--port must be between 0 and 65535 (a whole number), got 'nine'"},
                {"--host", "no-such-host.invalid", "--host 'no-such-host.invalid'"},
                {"--kv-budget", "lots", "--kv-budget lots"},
                {"--backend", "gpu", "--backend gpu"},
                {"--threads", "-1", "--threads must be between 0 and 1024"},
                {"--concurrency", "0", "--concurrency must be between 1 and 1024"},
                {"--innerq.max-messages=0", "innerq.max-messages must be at least 1"},
                {"--spring.ai.innerq.chat.options.top-p=7", "top-p must be in (0, 1]"},
                {"--spring.ai.innerq.queue-timeout=soon", "--spring.ai.innerq.queue-timeout soon"}};
        for (String[] c : cases) {
            var line = new java.util.ArrayList<>(List.of("serve", "--model", stories));
            line.addAll(List.of(c).subList(0, c.length - 1));
            CliTests.Run r = CliTests.run(line.toArray(String[]::new));
            assertThat(r.status()).as(String.join(" ", c) + ": " + r.err()).isEqualTo(2);
            assertThat(r.err()).as(String.join(" ", c)).contains(c[c.length - 1]).doesNotContain("\tat ");
        }
    }

    @Test
    void aPortInUseIsReportedBeforeTheModelLoads() throws java.io.IOException {
        try (var taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            long start = System.nanoTime();
            CliTests.Run r = CliTests.run("serve", "--model", stories, "--port", String.valueOf(taken.getLocalPort()));
            assertThat(r.status()).isEqualTo(1);
            assertThat(r.err().lines()).hasSize(1);
            assertThat(r.err()).contains("port " + taken.getLocalPort() + " on 127.0.0.1 is in use", "--port");
            assertThat(r.err()).doesNotContain("loaded");
            assertThat((System.nanoTime() - start) / 1e9).as("seconds: no service was started").isLessThan(10);
        }
    }

    @Test
    void serveHasHelp() {
        for (String flag : List.of("--help", "-h")) {
            CliTests.Run r = CliTests.run("serve", flag);
            assertThat(r.status()).isZero();
            assertThat(r.out()).contains("usage: innerq serve", "--port N", "--kv-budget SIZE", "spring.ai.innerq.");
            assertThat(r.err()).isEmpty();
        }
    }

    @Test
    void aTruncatedModelSaysWhatIsWrongAndWhatToDo(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws java.io.IOException {
        var truncated = dir.resolve("truncated.gguf");
        byte[] whole = java.nio.file.Files.readAllBytes(java.nio.file.Path.of(stories));
        java.nio.file.Files.write(truncated, java.util.Arrays.copyOf(whole, whole.length / 2));
        CliTests.Run r = CliTests.run("serve", "--model", truncated.toString(), "--port", "0");
        assertThat(r.status()).isEqualTo(1);
        assertThat(r.err()).contains("the service did not start", "truncated.gguf", "the file is truncated or corrupt");
        assertThat(r.err()).doesNotContain("\tat ", "APPLICATION FAILED TO START");
    }

    @Test
    void aBadPropertyIsNamed() {
        CliTests.Run r = CliTests.run("serve", "--model", stories, "--port", "0", "--spring.ai.innerq.kv.mode=innerq-7");
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains("spring.ai.innerq.kv.mode: unknown KV cache mode 'innerq-7'");
    }

    @Test
    void listeningBeyondLoopbackWithoutApiKeysIsRefused() {
        CliTests.Run r = CliTests.run("serve", "--model", stories, "--port", "0", "--host", "0.0.0.0");
        assertThat(r.status()).isEqualTo(1);
        assertThat(r.err()).contains("listens on 0.0.0.0, beyond loopback", "innerq.api-keys",
                "innerq.require-api-keys=false");
        assertThat(r.err().lines()).hasSize(1);
    }

    @Test
    void shortOptionsBecomeSpringProperties() {
        assertThat(ServeCommand.springArguments(List.of("--model", "m.gguf", "--port=9000", "--host", "::1",
                "--spring.ai.innerq.kv.mode=fp16", "--kv", "q8_0"))).containsExactly("--spring.ai.innerq.model=m.gguf",
                "--server.port=9000", "--server.address=::1", "--spring.ai.innerq.kv.mode=fp16",
                "--spring.ai.innerq.kv.mode=q8_0");
        assertThat(ServeCommand.springArguments(List.of("--check-weights", "--check-weights=false")))
                .containsExactly("--spring.ai.innerq.check-weights=true", "--spring.ai.innerq.check-weights=false");
        assertThatThrownBy(() -> ServeCommand.springArguments(List.of("--port")))
                .hasMessageContaining("--port needs a value");
    }
}
