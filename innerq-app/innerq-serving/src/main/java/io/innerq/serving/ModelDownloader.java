package io.innerq.serving;

import io.innerq.gguf.GgufFile;
import io.innerq.gguf.GgufFormatException;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.HttpURLConnection;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.ProxySelector;
import java.net.SocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.UnresolvedAddressException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.net.ssl.SSLException;

/**
 * Downloads a GGUF file into a directory (the model cache) over HTTP(S), resumably and checked.
 *
 * <p>What does not change: the bytes go to {@code NAME.part} beside the final file; a later download of the same name
 * asks for the rest with a {@code Range} request and appends (and starts over when the server sends the whole file,
 * answers 416, or its part does not start where ours ends). Only when the part is complete, its SHA-256 matches (when
 * one is expected) and {@link GgufFile#open} accepts it does it take the final name, by an atomic rename after it is
 * forced to disk; so the final name never holds a partial or unchecked file. A wrong digest or a file that is not
 * GGUF deletes the part; an interrupted transfer keeps it for the next try. One download at a time per name: the
 * part is locked while it is written.
 */
public final class ModelDownloader {

    /** No bytes for this long and the transfer is given up (resumable). */
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(60);

    private static final int BUFFER = 1 << 16;
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-(\\d+)/(\\d+|\\*)");
    private static final Pattern UNSATISFIED_RANGE = Pattern.compile("bytes \\*/(\\d+)");

    private final Path directory;
    private final HttpClient client;
    private final Duration idleTimeout;

    /**
     * @param directory   where files are saved (created when missing)
     * @param client      the client to send requests with; it should follow redirects
     * @param idleTimeout how long a transfer may go without a byte before it is given up
     */
    public ModelDownloader(Path directory, HttpClient client, Duration idleTimeout) {
        this.directory = directory;
        this.client = client;
        this.idleTimeout = idleTimeout;
    }

    public ModelDownloader(Path directory, HttpClient client) {
        this(directory, client, DEFAULT_IDLE_TIMEOUT);
    }

    public Path directory() {
        return directory;
    }

    /** A SHA-256 digest: 64 hexadecimal digits, kept in lower case. */
    public record Sha256(String hex) {
        private static final Pattern HEX64 = Pattern.compile("[0-9a-f]{64}");

        public Sha256 {
            hex = hex.strip().toLowerCase(Locale.ROOT);
            if (!HEX64.matcher(hex).matches()) {
                throw new IllegalArgumentException("a SHA-256 digest is 64 hexadecimal digits, got '%s' (%d characters)"
                        .formatted(hex.length() > 80 ? hex.substring(0, 80) + "..." : hex, hex.length()));
            }
        }

        public static Sha256 parse(String hex) {
            return new Sha256(hex);
        }

        @Override
        public String toString() {
            return hex;
        }
    }

    /**
     * What to download.
     *
     * @param url      an http or https URL with a host
     * @param fileName the name in the directory: a plain file name ending in {@code .gguf}
     * @param sha256   the digest the file must have, if known
     * @param size     the size the file must have, if known (checked before the transfer)
     * @param force    download even when the file is already there, and replace it once checked
     */
    public record Request(URI url, String fileName, Optional<Sha256> sha256, OptionalLong size, boolean force) {
        public Request {
            String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
            if (!scheme.equals("http") && !scheme.equals("https")) {
                throw new IllegalArgumentException("'%s' is not an http or https URL".formatted(url));
            }
            if (url.getHost() == null || url.getHost().isEmpty()) {
                throw new IllegalArgumentException("'%s' has no host name".formatted(url));
            }
            if (fileName.isEmpty() || fileName.equals(".gguf") || fileName.contains("/") || fileName.contains("\\")
                    || fileName.startsWith(".") || fileName.chars().anyMatch(c -> c < 0x20 || c == 0x7f)
                    || !fileName.endsWith(".gguf")) {
                throw new IllegalArgumentException("'%s' is not a plain .gguf file name".formatted(fileName));
            }
        }

        /** A download of {@code url}, named after its last path segment. */
        public static Request of(URI url, Optional<Sha256> sha256, boolean force) {
            return new Request(url, fileNameOf(url), sha256, OptionalLong.empty(), force);
        }

        /**
         * The last segment of the URL's path (decoded), with {@code .gguf} added when it has none.
         *
         * @throws IllegalArgumentException when the path names no file
         */
        public static String fileNameOf(URI url) {
            String path = url.getPath() == null ? "" : url.getPath();
            String last = path.substring(path.lastIndexOf('/') + 1);
            if (last.isEmpty() || last.equals(".") || last.equals("..")) {
                throw new IllegalArgumentException("'%s' names no file (its path ends in '/'): give the URL of the .gguf file"
                        .formatted(url));
            }
            return last.endsWith(".gguf") ? last : last + ".gguf";
        }
    }

    /** How a download ended when it did not fail. */
    public sealed interface Outcome {
        Path path();

        /** The file was already there and was kept (no {@code force}). */
        record AlreadyPresent(Path path, long bytes) implements Outcome {
        }

        /**
         * The file was downloaded, checked and moved into place.
         *
         * @param resumedFrom bytes that were already in the part file when this transfer started (0 for a new one)
         * @param checked     whether the digest was compared with an expected one
         */
        record Downloaded(Path path, long bytes, Sha256 sha256, long resumedFrom, boolean checked)
                implements Outcome {
        }
    }

    /** Where a download is; the command line draws it. Every method may be called from the downloading thread only. */
    public interface Progress {
        /** Bytes start to arrive: {@code offset} were already in the part, {@code total} is the whole size or -1. */
        default void started(long offset, long total) {
        }

        /** The part now holds {@code bytes}. */
        default void advanced(long bytes) {
        }

        /** The transfer is over (complete or not). */
        default void stopped() {
        }

        /** Something the user should know, one line: a restart, a check. */
        default void note(String line) {
        }

        static Progress none() {
            return new Progress() {
            };
        }
    }

    /** A download that failed; the message says what is wrong and what to do, in one line. */
    public static final class DownloadException extends Exception {
        public DownloadException(String message) {
            super(message);
        }

        public DownloadException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** Downloads {@code request} into the directory, or keeps the file already there. */
    public Outcome download(Request request, Progress progress) throws DownloadException {
        Path target = directory.resolve(request.fileName());
        Path part = directory.resolve(request.fileName() + ".part");
        if (Files.isRegularFile(target) && !request.force()) {
            return new Outcome.AlreadyPresent(target, sizeOf(target));
        }
        long existing = Files.isRegularFile(part) ? sizeOf(part) : 0;
        // the server answers first: a failed request leaves nothing behind, not even the directory
        Opened opened = open(request, part, Math.max(0, existing), progress);
        try {
            createDirectory();
            try (FileChannel channel = openPart(part); FileLock lock = lock(channel, part)) {
                if (size(channel, part) != Math.max(0, existing)) {
                    throw new DownloadException("%s changed while this pull started; run it again".formatted(part));
                }
                truncate(channel, part, opened.offset()); // to 0 when the server starts over
                if (opened.body() != null) {
                    copy(request.url(), opened.body(), channel, part, opened.offset(), opened.total(), progress);
                }
                long bytes = size(channel, part);
                if (opened.total() >= 0 && bytes != opened.total()) {
                    throw new DownloadException("the download of %s ended after %,d of %,d bytes; run the same pull again to resume"
                            .formatted(request.url(), bytes, opened.total()));
                }
                force(channel, part);
                Sha256 digest = verify(request, part, progress);
                try {
                    Files.move(part, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (IOException e) {
                    throw new DownloadException("cannot move %s to %s: %s".formatted(part, target, reason(e)), e);
                }
                return new Outcome.Downloaded(target, bytes, digest, opened.offset(), request.sha256().isPresent());
            } catch (IOException e) {
                // closing the part or its lock
                throw new DownloadException("cannot write %s: %s".formatted(part, reason(e)), e);
            }
        } finally {
            if (opened.body() != null) {
                close(opened.body());
            }
        }
    }

    private void createDirectory() throws DownloadException {
        try {
            Files.createDirectories(directory);
        } catch (IOException e) {
            throw new DownloadException("cannot create the model directory %s: %s; set XDG_CACHE_HOME to a writable directory"
                    .formatted(directory, reason(e)), e);
        }
    }

    private static FileChannel openPart(Path part) throws DownloadException {
        try {
            return FileChannel.open(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ);
        } catch (IOException e) {
            throw new DownloadException("cannot write %s: %s".formatted(part, reason(e)), e);
        }
    }

    private static FileLock lock(FileChannel channel, Path part) throws DownloadException {
        try {
            FileLock lock = channel.tryLock();
            if (lock == null) {
                throw new DownloadException("%s is being written by another innerq pull; wait for it to finish"
                        .formatted(part));
            }
            return lock;
        } catch (java.nio.channels.OverlappingFileLockException e) {
            throw new DownloadException("%s is being written by another download in this process".formatted(part), e);
        } catch (IOException e) {
            throw new DownloadException("cannot lock %s: %s".formatted(part, reason(e)), e);
        }
    }

    /**
     * The server's answer to a download that keeps {@code offset} bytes of the part.
     *
     * @param body   the bytes from {@code offset} on; null when the part is already the whole file
     * @param offset bytes of the part that are kept (0 when the download starts over)
     * @param total  the file's whole size as the server gave it, or -1 when it did not
     */
    private record Opened(InputStream body, long offset, long total) {
    }

    /**
     * Asks for the bytes after the {@code existing} ones of the part; asks again for the whole file when the server
     * will not resume. Writes nothing.
     */
    private Opened open(Request request, Path part, long existing, Progress progress) throws DownloadException {
        long offset = existing;
        // At most two requests: one for the rest, then one from the start (a request without a Range header
        // cannot be answered 416 or with a part).
        while (true) {
            HttpResponse<InputStream> response = send(request.url(), offset);
            int status = response.statusCode();
            HttpHeaders headers = response.headers();
            long total;
            if (offset > 0 && status == 416) {
                close(response.body());
                long whole = headers.firstValue("content-range").map(UNSATISFIED_RANGE::matcher)
                        .filter(Matcher::matches).map(m -> Long.parseLong(m.group(1))).orElse(-1L);
                if (whole == offset) {
                    progress.note("%s is already complete (%,d bytes)".formatted(part.getFileName(), offset));
                    checkSize(request, whole);
                    return new Opened(null, offset, whole);
                }
                progress.note("the server cannot resume at byte %,d%s; starting over".formatted(offset,
                        whole >= 0 ? " of a %,d-byte file".formatted(whole) : ""));
                offset = 0;
                continue;
            }
            if (status == 206 && offset > 0) {
                Matcher m = headers.firstValue("content-range").map(CONTENT_RANGE::matcher).orElse(null);
                if (m == null || !m.matches() || Long.parseLong(m.group(1)) != offset) {
                    close(response.body());
                    progress.note("the server sent a part that does not start at byte %,d; starting over"
                            .formatted(offset));
                    offset = 0;
                    continue;
                }
                total = m.group(3).equals("*") ? -1 : Long.parseLong(m.group(3));
            } else if (status == 200) {
                if (offset > 0) {
                    progress.note("the server does not resume downloads; starting over");
                    offset = 0;
                }
                total = headers.firstValueAsLong("content-length").orElse(-1);
            } else {
                close(response.body());
                throw statusError(request.url(), status);
            }
            String type = headers.firstValue("content-type").orElse("").toLowerCase(Locale.ROOT);
            if (type.startsWith("text/html")) {
                close(response.body());
                throw new DownloadException("%s is a web page (%s), not a GGUF file; give the file's own URL (on Hugging Face: .../resolve/main/FILE.gguf)"
                        .formatted(request.url(), type));
            }
            if (total >= 0) {
                try {
                    checkSize(request, total);
                } catch (DownloadException e) {
                    close(response.body());
                    throw e;
                }
            }
            if (offset > 0) {
                progress.note(total >= 0
                        ? "resuming at %,d of %,d bytes".formatted(offset, total)
                        : "resuming at %,d bytes".formatted(offset));
            }
            return new Opened(response.body(), offset, total);
        }
    }

    private void checkSize(Request request, long total) throws DownloadException {
        if (request.size().isPresent() && request.size().getAsLong() != total) {
            throw new DownloadException("%s has %,d bytes, not the %,d expected: the file was replaced upstream; pull its URL with --sha256 of the new file to take it"
                    .formatted(request.url(), total, request.size().getAsLong()));
        }
    }

    private HttpResponse<InputStream> send(URI url, long offset) throws DownloadException {
        var builder = HttpRequest.newBuilder(url).GET().header("User-Agent", "innerq")
                .timeout(Duration.ofSeconds(60));
        if (offset > 0) {
            builder.header("Range", "bytes=" + offset + "-");
        }
        try {
            return client.send(builder.build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DownloadException("the download of %s was interrupted".formatted(url), e);
        } catch (IOException e) {
            throw networkError(url, e);
        } catch (IllegalArgumentException e) {
            throw new DownloadException("cannot request %s: %s".formatted(url, e.getMessage()), e);
        }
    }

    /** Appends the body to the part from {@code offset}, giving up after {@link #idleTimeout} without a byte. */
    private void copy(URI url, InputStream body, FileChannel channel, Path part, long offset, long total,
                      Progress progress) throws DownloadException {
        var lastByte = new AtomicLong(System.nanoTime());
        var stalled = new AtomicBoolean();
        ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "innerq-download-watchdog");
            t.setDaemon(true);
            return t;
        });
        long tick = Math.max(10, idleTimeout.toMillis() / 4);
        watchdog.scheduleWithFixedDelay(() -> {
            if (System.nanoTime() - lastByte.get() > idleTimeout.toNanos() && stalled.compareAndSet(false, true)) {
                try {
                    body.close(); // wakes the blocked read
                } catch (IOException ignored) {
                    // the read fails or ends either way
                }
            }
        }, tick, tick, TimeUnit.MILLISECONDS);
        long position = offset;
        progress.started(offset, total);
        try (body) {
            byte[] buffer = new byte[BUFFER];
            while (true) {
                int n;
                try {
                    n = body.read(buffer);
                } catch (IOException e) {
                    if (stalled.get()) {
                        break;
                    }
                    throw new DownloadException("the download of %s broke off after %,d%s bytes (%s); run the same pull again to resume"
                            .formatted(url, position, total >= 0 ? " of %,d".formatted(total) : "", reason(e)), e);
                }
                if (n < 0) {
                    break;
                }
                lastByte.set(System.nanoTime());
                ByteBuffer chunk = ByteBuffer.wrap(buffer, 0, n);
                try {
                    while (chunk.hasRemaining()) {
                        position += channel.write(chunk, position);
                    }
                } catch (IOException e) {
                    throw new DownloadException("cannot write %s: %s (%,d bytes kept; free space and run the same pull again to resume)"
                            .formatted(part, reason(e), position), e);
                }
                progress.advanced(position);
            }
        } catch (IOException e) {
            // closing the body after it ended; nothing is lost
        } finally {
            watchdog.shutdownNow();
            progress.stopped();
        }
        if (stalled.get()) {
            throw new DownloadException("the download of %s stalled: no data for %d s after %,d%s bytes; run the same pull again to resume"
                    .formatted(url, Math.max(1, idleTimeout.toSeconds()), position,
                            total >= 0 ? " of %,d".formatted(total) : ""));
        }
    }

    /** Checks the complete part: its digest (when one is expected), then that it is a GGUF file. Deletes it if not. */
    private static Sha256 verify(Request request, Path part, Progress progress) throws DownloadException {
        progress.note("checking %s (%sGGUF header)".formatted(part.getFileName(),
                request.sha256().isPresent() ? "SHA-256, " : ""));
        Sha256 digest = digest(part);
        if (request.sha256().isPresent() && !request.sha256().get().equals(digest)) {
            delete(part);
            throw new DownloadException("%s has the wrong SHA-256: expected %s, got %s; the download was deleted (check --sha256, or the URL)"
                    .formatted(request.url(), request.sha256().get(), digest));
        }
        try (GgufFile ignored = GgufFile.open(part)) {
            // opening checks the header, the metadata, the tensor table and every tensor's extent
        } catch (GgufFormatException e) {
            delete(part);
            throw new DownloadException("%s is not a usable GGUF file (%s); the download was deleted. Give the URL of a .gguf file"
                    .formatted(request.url(), e.getMessage()), e);
        } catch (IOException e) {
            throw new DownloadException("cannot read %s: %s".formatted(part, reason(e)), e);
        }
        return digest;
    }

    private static Sha256 digest(Path file) throws DownloadException {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buffer = new byte[1 << 20];
            for (int n; (n = in.read(buffer)) >= 0; ) {
                sha.update(buffer, 0, n);
            }
        } catch (IOException e) {
            throw new DownloadException("cannot read %s: %s".formatted(file, reason(e)), e);
        }
        return new Sha256(HexFormat.of().formatHex(sha.digest()));
    }

    private static long size(FileChannel channel, Path part) throws DownloadException {
        try {
            return channel.size();
        } catch (IOException e) {
            throw new DownloadException("cannot read %s: %s".formatted(part, reason(e)), e);
        }
    }

    private static void truncate(FileChannel channel, Path part, long length) throws DownloadException {
        try {
            channel.truncate(length);
        } catch (IOException e) {
            throw new DownloadException("cannot write %s: %s".formatted(part, reason(e)), e);
        }
    }

    private static void force(FileChannel channel, Path part) throws DownloadException {
        try {
            channel.force(true);
        } catch (IOException e) {
            throw new DownloadException("cannot write %s: %s".formatted(part, reason(e)), e);
        }
    }

    private static long sizeOf(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            return -1;
        }
    }

    private static void delete(Path part) {
        try {
            Files.deleteIfExists(part);
        } catch (IOException ignored) {
            // the message that follows names the file; a leftover part is restarted or rejected again
        }
    }

    private static void close(InputStream body) {
        try {
            body.close();
        } catch (IOException ignored) {
            // nothing more of it is wanted
        }
    }

    private static DownloadException statusError(URI url, int status) {
        String what = switch (status) {
            case HttpURLConnection.HTTP_NOT_FOUND, HttpURLConnection.HTTP_GONE ->
                    "no such file there; check the URL (on Hugging Face: .../resolve/main/FILE.gguf)";
            case HttpURLConnection.HTTP_UNAUTHORIZED, HttpURLConnection.HTTP_FORBIDDEN ->
                    "the server wants a login (a gated model?); download the file another way and pass --model FILE";
            case 429 -> "too many requests; wait and run the same pull again";
            default -> status >= 500
                    ? "the server failed; run the same pull again later"
                    : "the server refused the request";
        };
        return new DownloadException("%s: HTTP %d, %s".formatted(url, status, what));
    }

    private static DownloadException networkError(URI url, IOException e) {
        String host = url.getHost() + (url.getPort() >= 0 ? ":" + url.getPort() : "");
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message;
        if (root instanceof UnresolvedAddressException || root instanceof java.net.UnknownHostException) {
            message = "cannot find the host %s; check the URL and your network (or proxy: https_proxy)".formatted(host);
        } else if (e instanceof HttpConnectTimeoutException) {
            message = "no answer from %s in time; check your network (or proxy: https_proxy) and try again".formatted(host);
        } else if (e instanceof HttpTimeoutException) {
            message = "%s did not answer in time; try again later".formatted(host);
        } else if (e instanceof ConnectException || root instanceof ConnectException) {
            message = "cannot connect to %s (connection refused); check the URL and your network (or proxy: https_proxy)"
                    .formatted(host);
        } else if (e instanceof SSLException || root instanceof SSLException) {
            message = "the TLS connection to %s failed (%s)".formatted(host, reason(root));
        } else {
            message = "the request for %s failed (%s); run the same pull again".formatted(url, reason(e));
        }
        return new DownloadException(message, e);
    }

    private static String reason(Throwable e) {
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof FileSystemException f && f.getReason() != null) {
            return f.getReason();
        }
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
    }

    /**
     * The client {@code innerq pull} uses: redirects followed (not from https to http), a 30 s connect timeout, and
     * a proxy from the {@code https.proxyHost}/{@code http.proxyHost} system properties, or else from
     * {@code https_proxy}/{@code http_proxy} (either case) in {@code env}, minus {@code no_proxy} and loopback hosts.
     */
    public static HttpClient defaultClient(Map<String, String> env) {
        var builder = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL)
                .connectTimeout(Duration.ofSeconds(30));
        if (System.getProperty("https.proxyHost") == null && System.getProperty("http.proxyHost") == null) {
            EnvironmentProxies.of(env).ifPresent(builder::proxy);
        }
        return builder.build();
    }

    /** {@code https_proxy}, {@code http_proxy} and {@code no_proxy} as curl reads them (host and port only). */
    static final class EnvironmentProxies extends ProxySelector {

        private final Optional<InetSocketAddress> https;
        private final Optional<InetSocketAddress> http;
        private final List<String> noProxy;

        private EnvironmentProxies(Optional<InetSocketAddress> https, Optional<InetSocketAddress> http,
                                   List<String> noProxy) {
            this.https = https;
            this.http = http;
            this.noProxy = noProxy;
        }

        /** Empty when {@code env} names no proxy. */
        static Optional<ProxySelector> of(Map<String, String> env) {
            Optional<InetSocketAddress> https = address(variable(env, "https_proxy"));
            Optional<InetSocketAddress> http = address(variable(env, "http_proxy"));
            if (https.isEmpty() && http.isEmpty()) {
                return Optional.empty();
            }
            List<String> noProxy = variable(env, "no_proxy").map(v -> List.of(v.split(","))).orElse(List.of())
                    .stream().map(s -> s.strip().toLowerCase(Locale.ROOT)).filter(s -> !s.isEmpty()).toList();
            return Optional.of(new EnvironmentProxies(https, http, noProxy));
        }

        private static Optional<String> variable(Map<String, String> env, String name) {
            String v = env.get(name);
            if (v == null || v.isBlank()) {
                v = env.get(name.toUpperCase(Locale.ROOT));
            }
            return v == null || v.isBlank() ? Optional.empty() : Optional.of(v.strip());
        }

        private static Optional<InetSocketAddress> address(Optional<String> value) {
            return value.flatMap(v -> {
                try {
                    URI u = URI.create(v.contains("://") ? v : "http://" + v);
                    if (u.getHost() == null) {
                        return Optional.empty();
                    }
                    int port = u.getPort() >= 0 ? u.getPort() : "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
                    return Optional.of(InetSocketAddress.createUnresolved(u.getHost(), port));
                } catch (IllegalArgumentException e) {
                    return Optional.empty();
                }
            });
        }

        @Override
        public List<Proxy> select(URI uri) {
            String host = uri.getHost() == null ? "" : uri.getHost().toLowerCase(Locale.ROOT);
            Optional<InetSocketAddress> proxy = "https".equalsIgnoreCase(uri.getScheme()) ? https : http;
            if (proxy.isEmpty() || bypassed(host)) {
                return List.of(Proxy.NO_PROXY);
            }
            return List.of(new Proxy(Proxy.Type.HTTP, proxy.get()));
        }

        private boolean bypassed(String host) {
            String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
            if (h.equals("localhost") || h.startsWith("127.") || h.equals("::1")) {
                return true;
            }
            for (String entry : noProxy) {
                if (entry.equals("*")) {
                    return true;
                }
                String suffix = entry.startsWith(".") ? entry.substring(1) : entry;
                if (h.equals(suffix) || h.endsWith("." + suffix)) {
                    return true;
                }
            }
            return false;
        }

        @Override
        public void connectFailed(URI uri, SocketAddress address, IOException e) {
            // the request reports the failure
        }
    }
}
