package io.innerq.cli;

import io.innerq.serving.ModelCatalog;
import io.innerq.testing.ModelFileServer;
import io.innerq.cli.CliTests.Run;
import io.innerq.testing.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;

import static io.innerq.cli.CliTests.run;
import static org.assertj.core.api.Assertions.assertThat;

/** {@code innerq pull}: its wiring, exit codes and messages. Downloads go to a local server, into a temp dir. */
@Timeout(60)
class PullCommandTests {

    @TempDir
    Path cache;

    /** The command with the cache directory and client given, as Cli would run it. */
    Run pull(String... args) {
        var out = new ByteArrayOutputStream();
        var err = new ByteArrayOutputStream();
        int status;
        try (HttpClient client = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL)
                .proxy(HttpClient.Builder.NO_PROXY).build()) {
            var o = new PrintStream(out, true, StandardCharsets.UTF_8);
            var e = new PrintStream(err, true, StandardCharsets.UTF_8);
            try {
                status = PullCommand.run(List.of(args), o, e, cache, client);
            } catch (CliArguments.UsageException x) {
                e.println("innerq: " + x.getMessage());
                status = 2;
            }
        }
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static byte[] stories() {
        return ModelFileServer.read(TestModels.stories260K());
    }

    @Test
    void pullsAUrlIntoTheCacheWithAProgressBarAndSaysHowToRunIt() throws Exception {
        byte[] model = stories();
        try (var server = new ModelFileServer(model)) {
            Run r = pull(server.url("/redirect/stories260K.gguf").toString());

            assertThat(r.status()).as(r.err()).isZero();
            assertThat(cache.resolve("stories260K.gguf")).hasBinaryContent(model);
            assertThat(r.out()).startsWith("saved " + cache.resolve("stories260K.gguf") + " (" + "%,d".formatted(
                    model.length) + " bytes, sha256 ").contains("not pinned")
                    .endsWith("run it with --model stories260K\n");
            assertThat(r.err()).contains("downloading " + server.url("/redirect/stories260K.gguf"),
                    "] 1/1 MiB", "checking stories260K.gguf.part (GGUF header)");

            Run again = pull(server.url("/files/stories260K.gguf").toString());
            assertThat(again.status()).isZero();
            assertThat(again.out()).isEqualTo("%s is already there (%,d bytes); pass --force to download it again%n"
                    .formatted(cache.resolve("stories260K.gguf"), model.length));
            assertThat(again.err()).isEmpty();
        }
    }

    @Test
    void anInterruptedPullIsResumedByTheSameCommand() throws IOException {
        byte[] model = stories();
        try (var server = new ModelFileServer(model)) {
            String url = server.url("/drop/stories260K.gguf").toString();

            Run first = pull(url);
            assertThat(first.status()).isEqualTo(1);
            assertThat(first.err()).contains("innerq: the download of " + url + " broke off after",
                    "run the same pull again to resume").doesNotContain("Exception", "\tat ");
            assertThat(cache.resolve("stories260K.gguf")).doesNotExist();

            Run second = pull(url);
            assertThat(second.status()).as(second.err()).isZero();
            assertThat(second.err()).contains("resuming at");
            assertThat(cache.resolve("stories260K.gguf")).hasBinaryContent(model);
        }
    }

    @Test
    void aWrongChecksumIsExitOneWithBothDigests() throws IOException {
        byte[] model = stories();
        try (var server = new ModelFileServer(model)) {
            Run r = pull(server.url("/files/stories260K.gguf").toString(), "--sha256", "ab".repeat(32));

            assertThat(r.status()).isEqualTo(1);
            assertThat(r.err()).contains("wrong SHA-256: expected " + "ab".repeat(32) + ", got ");
            assertThat(cache.toFile().list()).isEmpty();
        }
    }

    @Test
    void theCatalogIsListedWithoutAnArgumentOrWithList() {
        Run bare = run("pull");
        Run list = run("pull", "--list");

        assertThat(bare.status()).isZero();
        assertThat(list.out()).isEqualTo(bare.out());
        for (ModelCatalog.Entry e : ModelCatalog.entries()) {
            assertThat(list.out()).contains(e.name(), e.title());
        }
        assertThat(list.out()).contains("innerq pull NAME downloads one of these into", "innerq pull URL",
                "608 MiB", "(no published SHA-256: only the GGUF check)");
    }

    @Test
    void usageMistakesAreExitTwoAndNameTheProblem() {
        Run unknown = run("pull", "gpt-5:q4_0");
        assertThat(unknown.status()).isEqualTo(2);
        assertThat(unknown.err()).startsWith("innerq: 'gpt-5:q4_0' is not a model name of the catalog nor a URL; "
                + "run 'innerq pull --list' for the names; run 'innerq pull --help' for its options\n");

        Run ambiguous = run("pull", "tinyllama-1.1b-chat");
        assertThat(ambiguous.status()).isEqualTo(2);
        assertThat(ambiguous.err()).contains("'tinyllama-1.1b-chat' comes in tinyllama-1.1b-chat:q4_0, "
                + "tinyllama-1.1b-chat:q8_0; name one");

        Run badSha = run("pull", "smollm2-135m-instruct:q8_0", "--sha256", "1234");
        assertThat(badSha.status()).isEqualTo(2);
        assertThat(badSha.err()).contains("--sha256: a SHA-256 digest is 64 hexadecimal digits, got '1234' (4 characters)");

        Run noValue = run("pull", "smollm2-135m-instruct:q8_0", "--sha256");
        assertThat(noValue.status()).isEqualTo(2);
        assertThat(noValue.err()).contains("--sha256 needs a value");

        Run scheme = run("pull", "ftp://example.org/model.gguf");
        assertThat(scheme.status()).isEqualTo(2);
        assertThat(scheme.err()).contains("'ftp://example.org/model.gguf' is not an http or https URL");

        Run syntax = run("pull", "https://exa mple.org/model.gguf");
        assertThat(syntax.status()).isEqualTo(2);
        assertThat(syntax.err()).contains("is not a valid URL");

        Run noFile = run("pull", "https://example.org/models/");
        assertThat(noFile.status()).isEqualTo(2);
        assertThat(noFile.err()).contains("names no file");

        Run two = run("pull", "a:q4_0", "b:q4_0");
        assertThat(two.status()).isEqualTo(2);
        assertThat(two.err()).contains("'pull' takes one URL or name, got 2");

        Run option = run("pull", "smollm2-135m-instruct:q8_0", "--froce");
        assertThat(option.status()).isEqualTo(2);
        assertThat(option.err()).contains("'pull' does not take --froce");
    }

    @Test
    void failedDownloadsThroughTheCliAreExitOneInOneLine() throws IOException {
        String name = "absent-" + UUID.randomUUID() + ".gguf"; // nothing is written: the server fails first
        try (var server = new ModelFileServer(new byte[0])) {
            Run missing = run("pull", server.url("/missing/" + name).toString());
            assertThat(missing.status()).isEqualTo(1);
            assertThat(missing.err()).endsWith("innerq: " + server.url("/missing/" + name)
                    + ": HTTP 404, no such file there; check the URL (on Hugging Face: .../resolve/main/FILE.gguf)\n");

            Run broken = run("pull", server.url("/broken/" + name).toString());
            assertThat(broken.status()).isEqualTo(1);
            assertThat(broken.err()).contains("HTTP 500");
        }
        int port;
        try (var socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }
        Run refused = run("pull", "http://127.0.0.1:" + port + "/" + name);
        assertThat(refused.status()).isEqualTo(1);
        assertThat(refused.err().lines().filter(l -> l.startsWith("innerq: ")).toList()).singleElement()
                .asString().startsWith("innerq: cannot connect to 127.0.0.1:" + port);
        assertThat(refused.err()).doesNotContain("Exception", "\tat ");
        Path real = io.innerq.serving.ModelResolver.cacheDirectory();
        assertThat(real.resolve(name)).doesNotExist();
        assertThat(real.resolve(name + ".part")).doesNotExist();
    }

    @Test
    void helpNamesPull() {
        assertThat(run("help").out()).contains("pull       download a GGUF model by name or URL");
        assertThat(run("pull", "--help").out()).contains("usage: innerq pull URL|NAME [--sha256 HEX] [--force]");
    }
}
