package io.innerq.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An HTTP server on 127.0.0.1 that serves one file's bytes the ways real servers do and fail: with {@code Range}
 * support, through a redirect, dropping the connection half way, ignoring {@code Range}, stalling, 404, 500, and
 * bodies that are not GGUF. Paths end in the file name, e.g. {@code /files/stories260K.gguf}:
 *
 * <ul>
 *   <li>{@code /files/NAME}: the bytes, with single {@code bytes=N-} / {@code bytes=N-M} ranges (206, or 416 past
 *       the end)</li>
 *   <li>{@code /redirect/NAME}: 302 to an unrelated path ({@code /cdn/...?signature=...}) that serves the same</li>
 *   <li>{@code /drop/NAME}: the first request without a Range gets the headers and half the bytes, then the
 *       connection is dropped; later requests are served as {@code /files/}</li>
 *   <li>{@code /norange/NAME}: always 200 and the whole file, whatever the Range</li>
 *   <li>{@code /stall/NAME}: half the bytes, then nothing until the server closes</li>
 *   <li>{@code /missing/NAME}: 404; {@code /broken/NAME}: 500</li>
 *   <li>{@code /text/NAME}: 200 with a short text that is not GGUF; {@code /page/NAME}: 200 with an HTML page</li>
 * </ul>
 *
 * While it sends bytes it checks that {@link #watch} (the final file of the download) does not exist, and counts
 * the times it did in {@link #finalFileSeenDuringTransfer()}.
 */
public final class ModelFileServer implements AutoCloseable {

    private static final Pattern RANGE = Pattern.compile("bytes=(\\d+)-(\\d*)");
    private static final int CHUNK = 16 * 1024;

    private final byte[] bytes;
    private final HttpServer server;
    private final ExecutorService executor = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "model-file-server");
        t.setDaemon(true);
        return t;
    });
    private final CountDownLatch closing = new CountDownLatch(1);
    private final Map<String, AtomicInteger> requests = new ConcurrentHashMap<>();
    private final List<String> ranges = new CopyOnWriteArrayList<>();
    private final AtomicInteger finalSeen = new AtomicInteger();
    private volatile Path watched;

    public ModelFileServer(byte[] bytes) throws IOException {
        this.bytes = bytes.clone();
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(executor);
        server.createContext("/", this::handle);
        server.start();
    }

    /** A URL of this server: {@code path} such as {@code "/files/stories260K.gguf"}. */
    public URI url(String path) {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path);
    }

    /** While bytes are sent, this file must not exist. */
    public void watch(Path finalFile) {
        watched = finalFile;
    }

    public int finalFileSeenDuringTransfer() {
        return finalSeen.get();
    }

    /** Requests so far whose path starts with {@code prefix} (e.g. {@code "/drop/"}). */
    public int requests(String prefix) {
        return requests.entrySet().stream().filter(e -> e.getKey().startsWith(prefix))
                .mapToInt(e -> e.getValue().get()).sum();
    }

    /** The Range headers received, in order ("" for a request without one). */
    public List<String> ranges() {
        return List.copyOf(ranges);
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            String range = exchange.getRequestHeaders().getFirst("Range");
            ranges.add(range == null ? "" : range);
            String kind = path.substring(0, path.indexOf('/', 1) + 1);
            int count = requests.computeIfAbsent(kind, k -> new AtomicInteger()).incrementAndGet();
            switch (kind) {
                case "/files/", "/cdn/" -> serve(exchange, range, false);
                case "/redirect/" -> {
                    exchange.getResponseHeaders().set("Location", "/cdn/blob-7f3a9c?signature=abc&expires=1");
                    exchange.sendResponseHeaders(302, -1);
                }
                case "/drop/" -> {
                    if (range == null && count == 1) {
                        exchange.sendResponseHeaders(200, bytes.length);
                        send(exchange.getResponseBody(), 0, bytes.length / 2);
                        throw new IOException("dropping the connection half way"); // the server closes it
                    }
                    serve(exchange, range, false);
                }
                case "/norange/" -> serve(exchange, range, true);
                case "/stall/" -> {
                    exchange.sendResponseHeaders(200, bytes.length);
                    send(exchange.getResponseBody(), 0, bytes.length / 2);
                    closing.await(30, TimeUnit.SECONDS);
                }
                case "/missing/" -> text(exchange, 404, "text/plain", "Entry not found");
                case "/broken/" -> text(exchange, 500, "text/plain", "Internal Error");
                case "/text/" -> text(exchange, 200, "application/octet-stream", "this is not a model, only text\n");
                case "/page/" -> text(exchange, 200, "text/html; charset=utf-8",
                        "<!doctype html><html><body>a model's page</body></html>");
                default -> text(exchange, 404, "text/plain", "no route " + path);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void serve(HttpExchange exchange, String range, boolean ignoreRange) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", "application/octet-stream");
        exchange.getResponseHeaders().set("Accept-Ranges", ignoreRange ? "none" : "bytes");
        Matcher m = range == null || ignoreRange ? null : RANGE.matcher(range);
        if (m == null || !m.matches()) {
            exchange.sendResponseHeaders(200, bytes.length);
            send(exchange.getResponseBody(), 0, bytes.length);
            return;
        }
        long start = Long.parseLong(m.group(1));
        long end = m.group(2).isEmpty() ? bytes.length - 1 : Math.min(Long.parseLong(m.group(2)), bytes.length - 1);
        if (start >= bytes.length || start > end) {
            exchange.getResponseHeaders().set("Content-Range", "bytes */" + bytes.length);
            exchange.sendResponseHeaders(416, -1);
            return;
        }
        exchange.getResponseHeaders().set("Content-Range", "bytes %d-%d/%d".formatted(start, end, bytes.length));
        exchange.sendResponseHeaders(206, end - start + 1);
        send(exchange.getResponseBody(), (int) start, (int) (end + 1));
    }

    private void send(OutputStream body, int from, int to) throws IOException {
        for (int at = from; at < to; at += CHUNK) {
            Path f = watched;
            if (f != null && Files.exists(f)) {
                finalSeen.incrementAndGet();
            }
            body.write(bytes, at, Math.min(CHUNK, to - at));
            body.flush();
        }
    }

    private static void text(HttpExchange exchange, int status, String type, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", type);
        exchange.sendResponseHeaders(status, b.length);
        exchange.getResponseBody().write(b);
    }

    @Override
    public void close() {
        closing.countDown();
        server.stop(0);
        executor.shutdownNow();
    }

    /** The bytes of a file, or an unchecked exception (for field initialisers). */
    public static byte[] read(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
