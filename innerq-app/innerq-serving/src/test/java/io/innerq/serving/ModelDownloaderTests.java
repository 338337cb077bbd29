package io.innerq.serving;

import io.innerq.serving.ModelDownloader.DownloadException;
import io.innerq.serving.ModelDownloader.Outcome;
import io.innerq.serving.ModelDownloader.Request;
import io.innerq.serving.ModelDownloader.Sha256;
import io.innerq.testing.ModelFileServer;
import io.innerq.testing.TestModels;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Proxy;
import java.net.ProxySelector;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Downloads from a local server: resumes, restarts, checks, and never a partial or unchecked file by its name. */
@Timeout(60)
class ModelDownloaderTests {

    static final String NAME = "stories260K.gguf";

    @TempDir
    Path cache;

    byte[] model;
    Sha256 modelSha;
    ModelFileServer server;
    HttpClient client;
    ModelDownloader downloader;
    final List<String> notes = new ArrayList<>();
    final ModelDownloader.Progress progress = new ModelDownloader.Progress() {
        @Override
        public void note(String line) {
            notes.add(line);
        }
    };

    @BeforeEach
    void start() throws Exception {
        model = Files.readAllBytes(TestModels.stories260K());
        modelSha = sha256(model);
        server = new ModelFileServer(model);
        server.watch(cache.resolve(NAME));
        client = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL).proxy(HttpClient.Builder.NO_PROXY)
                .build();
        downloader = new ModelDownloader(cache, client);
    }

    @AfterEach
    void stop() {
        if (server != null) {
            assertThat(server.finalFileSeenDuringTransfer()).as("the final name existed while bytes arrived").isZero();
            server.close();
            client.close();
        }
    }

    Request request(String path, Optional<Sha256> sha256) {
        return Request.of(server.url(path), sha256, false);
    }

    Path target() {
        return cache.resolve(NAME);
    }

    Path part() {
        return cache.resolve(NAME + ".part");
    }

    @Test
    void downloadsChecksAndMovesIntoPlace() throws Exception {
        Outcome outcome = downloader.download(request("/files/" + NAME, Optional.of(modelSha)), progress);

        assertThat(outcome).isInstanceOfSatisfying(Outcome.Downloaded.class, d -> {
            assertThat(d.path()).isEqualTo(target());
            assertThat(d.bytes()).isEqualTo(model.length);
            assertThat(d.sha256()).isEqualTo(modelSha);
            assertThat(d.checked()).isTrue();
            assertThat(d.resumedFrom()).isZero();
        });
        assertThat(target()).hasBinaryContent(model);
        assertThat(cache.toFile().list()).containsExactly(NAME);
    }

    @Test
    void followsARedirectAndKeepsTheNameOfTheRequestedUrl() throws Exception {
        Outcome outcome = downloader.download(request("/redirect/" + NAME, Optional.of(modelSha)), progress);

        assertThat(outcome.path()).isEqualTo(target());
        assertThat(target()).hasBinaryContent(model);
        assertThat(server.requests("/redirect/")).isEqualTo(1);
        assertThat(server.requests("/cdn/")).isEqualTo(1);
    }

    @Test
    void aDroppedConnectionKeepsThePartAndTheNextPullResumesIt() throws Exception {
        Request request = request("/drop/" + NAME, Optional.of(modelSha));

        assertThatThrownBy(() -> downloader.download(request, progress)).isInstanceOf(DownloadException.class)
                .hasMessageContaining("broke off after").hasMessageContaining("of %,d".formatted(model.length))
                .hasMessageContaining("run the same pull again to resume");
        assertThat(target()).doesNotExist();
        long kept = Files.size(part());
        assertThat(kept).isPositive().isLessThan(model.length);

        Outcome outcome = downloader.download(request, progress);

        assertThat(outcome).isInstanceOfSatisfying(Outcome.Downloaded.class,
                d -> assertThat(d.resumedFrom()).isEqualTo(kept));
        assertThat(server.ranges()).containsExactly("", "bytes=" + kept + "-");
        assertThat(target()).hasBinaryContent(model);
        assertThat(part()).doesNotExist();
        assertThat(notes).anyMatch(n -> n.startsWith("resuming at %,d of %,d bytes".formatted(kept, model.length)));
    }

    @Test
    void aResumeFollowsTheRedirectToo() throws Exception {
        Files.write(part(), Arrays.copyOf(model, 1000));

        downloader.download(request("/redirect/" + NAME, Optional.of(modelSha)), progress);

        assertThat(server.ranges()).containsExactly("bytes=1000-", "bytes=1000-");
        assertThat(target()).hasBinaryContent(model);
    }

    @Test
    void aServerThatIgnoresRangeIsDownloadedFromTheStart() throws Exception {
        byte[] wrongStart = Arrays.copyOf(model, 5000);
        Arrays.fill(wrongStart, 0, 100, (byte) 0x55); // a part that would corrupt the file if appended to
        Files.write(part(), wrongStart);

        Outcome outcome = downloader.download(request("/norange/" + NAME, Optional.of(modelSha)), progress);

        assertThat(outcome).isInstanceOfSatisfying(Outcome.Downloaded.class,
                d -> assertThat(d.resumedFrom()).isZero());
        assertThat(server.ranges()).containsExactly("bytes=5000-");
        assertThat(target()).hasBinaryContent(model);
        assertThat(notes).contains("the server does not resume downloads; starting over");
    }

    @Test
    void aPartLongerThanTheFileIsStartedOver() throws Exception {
        byte[] tooLong = Arrays.copyOf(model, model.length + 10);
        Files.write(part(), tooLong);

        downloader.download(request("/files/" + NAME, Optional.of(modelSha)), progress);

        assertThat(server.ranges()).containsExactly("bytes=" + tooLong.length + "-", "");
        assertThat(target()).hasBinaryContent(model);
        assertThat(notes).anyMatch(n -> n.startsWith("the server cannot resume at byte"));
    }

    @Test
    void aCompletePartIsCheckedAndMovedWithoutDownloadingAgain() throws Exception {
        Files.write(part(), model);

        Outcome outcome = downloader.download(request("/files/" + NAME, Optional.of(modelSha)), progress);

        assertThat(outcome).isInstanceOfSatisfying(Outcome.Downloaded.class,
                d -> assertThat(d.resumedFrom()).isEqualTo(model.length));
        assertThat(server.ranges()).containsExactly("bytes=" + model.length + "-"); // answered 416
        assertThat(target()).hasBinaryContent(model);
    }

    @Test
    void aWrongChecksumDeletesTheDownloadAndSaysBoth() {
        Sha256 wrong = Sha256.parse("00".repeat(32));

        assertThatThrownBy(() -> downloader.download(request("/files/" + NAME, Optional.of(wrong)), progress))
                .isInstanceOf(DownloadException.class)
                .hasMessageContaining("wrong SHA-256")
                .hasMessageContaining("expected " + wrong)
                .hasMessageContaining("got " + modelSha)
                .hasMessageContaining("the download was deleted");
        assertThat(target()).doesNotExist();
        assertThat(part()).doesNotExist();
    }

    @Test
    void aBodyThatIsNotGgufIsRefusedAndDeleted() {
        assertThatThrownBy(() -> downloader.download(request("/text/" + NAME, Optional.empty()), progress))
                .isInstanceOf(DownloadException.class)
                .hasMessageContaining("is not a usable GGUF file")
                .hasMessageContaining("this is not a GGUF file")
                .hasMessageContaining("the download was deleted");
        assertThat(target()).doesNotExist();
        assertThat(part()).doesNotExist();
    }

    @Test
    void aTruncatedGgufWithoutAChecksumIsRefused() throws Exception {
        try (var truncated = new ModelFileServer(Arrays.copyOf(model, model.length - 4096))) {
            Request request = Request.of(truncated.url("/files/" + NAME), Optional.empty(), false);

            assertThatThrownBy(() -> downloader.download(request, progress)).isInstanceOf(DownloadException.class)
                    .hasMessageContaining("is not a usable GGUF file").hasMessageContaining("truncated");
        }
        assertThat(target()).doesNotExist();
    }

    @Test
    void aWebPageIsRefusedBeforeItIsSaved() {
        assertThatThrownBy(() -> downloader.download(request("/page/" + NAME, Optional.empty()), progress))
                .isInstanceOf(DownloadException.class)
                .hasMessageContaining("is a web page (text/html")
                .hasMessageContaining("/resolve/main/");
        assertThat(target()).doesNotExist();
    }

    @Test
    void httpErrorsSayWhatToDo() {
        assertThatThrownBy(() -> downloader.download(request("/missing/" + NAME, Optional.empty()), progress))
                .isInstanceOf(DownloadException.class)
                .hasMessage(server.url("/missing/" + NAME)
                        + ": HTTP 404, no such file there; check the URL (on Hugging Face: .../resolve/main/FILE.gguf)");
        assertThatThrownBy(() -> downloader.download(request("/broken/" + NAME, Optional.empty()), progress))
                .isInstanceOf(DownloadException.class)
                .hasMessageContaining("HTTP 500, the server failed; run the same pull again later");
        assertThat(target()).doesNotExist();
    }

    @Test
    void aRefusedConnectionNamesTheHost() throws IOException {
        int port;
        try (var socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }
        Request request = Request.of(URI.create("http://127.0.0.1:" + port + "/" + NAME), Optional.empty(), false);

        assertThatThrownBy(() -> downloader.download(request, progress)).isInstanceOf(DownloadException.class)
                .hasMessageStartingWith("cannot connect to 127.0.0.1:" + port)
                .hasMessageContaining("check the URL and your network");
        assertThat(target()).doesNotExist();
    }

    @Test
    void aStalledTransferIsGivenUpAndResumable() throws Exception {
        var impatient = new ModelDownloader(cache, client, Duration.ofMillis(300));

        assertThatThrownBy(() -> impatient.download(request("/stall/" + NAME, Optional.empty()), progress))
                .isInstanceOf(DownloadException.class).hasMessageContaining("stalled: no data for");
        assertThat(target()).doesNotExist();
        assertThat(Files.size(part())).isPositive().isLessThan(model.length);

        downloader.download(request("/files/" + NAME, Optional.of(modelSha)), progress);
        assertThat(target()).hasBinaryContent(model);
    }

    @Test
    void anExistingFileIsKeptUnlessForced() throws Exception {
        Files.writeString(target(), "an older download");

        Outcome kept = downloader.download(request("/files/" + NAME, Optional.of(modelSha)), progress);
        assertThat(kept).isEqualTo(new Outcome.AlreadyPresent(target(), "an older download".length()));
        assertThat(server.requests("/")).isZero();

        server.watch(null); // the old file exists during a forced download, by design
        Outcome forced = downloader.download(
                Request.of(server.url("/files/" + NAME), Optional.of(modelSha), true), progress);
        assertThat(forced).isInstanceOf(Outcome.Downloaded.class);
        assertThat(target()).hasBinaryContent(model);
    }

    @Test
    void aFailedForcedDownloadKeepsTheOldFile() throws Exception {
        Files.writeString(target(), "an older download");
        server.watch(null);

        assertThatThrownBy(() -> downloader.download(
                Request.of(server.url("/files/" + NAME), Optional.of(Sha256.parse("ab".repeat(32))), true),
                progress)).isInstanceOf(DownloadException.class);
        assertThat(target()).hasContent("an older download");
    }

    @Test
    void aSizeThatIsNotTheExpectedOneStopsBeforeTheTransfer() {
        Request request = new Request(server.url("/files/" + NAME), NAME, Optional.of(modelSha),
                OptionalLong.of(model.length + 1L), false);

        assertThatThrownBy(() -> downloader.download(request, progress)).isInstanceOf(DownloadException.class)
                .hasMessageContaining("has %,d bytes, not the %,d expected".formatted(model.length, model.length + 1))
                .hasMessageContaining("--sha256");
        assertThat(target()).doesNotExist();
    }

    @Test
    void aDirectoryThatCannotBeCreatedIsNamed() throws IOException {
        Path file = cache.resolve("a-file");
        Files.writeString(file, "x");
        var blocked = new ModelDownloader(file.resolve("models"), client);

        assertThatThrownBy(() -> blocked.download(request("/files/" + NAME, Optional.empty()), progress))
                .isInstanceOf(DownloadException.class)
                .hasMessageStartingWith("cannot create the model directory " + file.resolve("models"))
                .hasMessageContaining("XDG_CACHE_HOME");
    }

    @Test
    void requestsAndDigestsValidateThemselves() {
        assertThat(Request.fileNameOf(URI.create("https://h/r/resolve/main/M-Q8_0.gguf?download=true")))
                .isEqualTo("M-Q8_0.gguf");
        assertThat(Request.fileNameOf(URI.create("https://h/blobs/sha256-12ab"))).isEqualTo("sha256-12ab.gguf");
        assertThat(Request.fileNameOf(URI.create("https://h/a%20model.gguf"))).isEqualTo("a model.gguf");
        assertThatThrownBy(() -> Request.fileNameOf(URI.create("https://h/models/")))
                .hasMessageContaining("names no file");
        assertThatThrownBy(() -> Request.of(URI.create("ftp://h/m.gguf"), Optional.empty(), false))
                .hasMessageContaining("is not an http or https URL");
        assertThatThrownBy(() -> new Request(URI.create("https://h/x"), "../x.gguf", Optional.empty(),
                OptionalLong.empty(), false)).hasMessageContaining("not a plain .gguf file name");

        assertThat(Sha256.parse(" " + "AB".repeat(32) + "\n").hex()).isEqualTo("ab".repeat(32));
        assertThatThrownBy(() -> Sha256.parse("abc")).hasMessageContaining("64 hexadecimal digits, got 'abc' (3");
        assertThatThrownBy(() -> Sha256.parse("g".repeat(64))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void proxiesComeFromTheEnvironmentExceptForNoProxyAndLoopback() {
        ProxySelector selector = ModelDownloader.EnvironmentProxies.of(Map.of(
                "HTTPS_PROXY", "http://proxy.example:3128", "no_proxy", "internal.example,.corp")).orElseThrow();

        assertThat(selector.select(URI.create("https://huggingface.co/x"))).singleElement()
                .satisfies(p -> assertThat(p.address().toString()).contains("proxy.example").endsWith(":3128"));
        assertThat(selector.select(URI.create("http://huggingface.co/x"))).containsExactly(Proxy.NO_PROXY);
        assertThat(selector.select(URI.create("https://internal.example/x"))).containsExactly(Proxy.NO_PROXY);
        assertThat(selector.select(URI.create("https://files.corp/x"))).containsExactly(Proxy.NO_PROXY);
        assertThat(selector.select(URI.create("https://127.0.0.1:8080/x"))).containsExactly(Proxy.NO_PROXY);
        assertThat(ModelDownloader.EnvironmentProxies.of(Map.of())).isEmpty();
    }

    static Sha256 sha256(byte[] bytes) throws Exception {
        return Sha256.parse(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)));
    }
}
