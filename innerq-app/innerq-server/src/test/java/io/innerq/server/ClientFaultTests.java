package io.innerq.server;

import io.innerq.serving.InnerqEngine;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.JsonNode;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static io.innerq.server.InnerqServiceTest.TEST_KEY;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Clients that misbehave, over the real HTTP server and the real model, in batches: after each fault the engine
 * must be idle again (no generation, no KV bytes, every slot free), by its accessors and by Prometheus. Each test
 * prints one line of figures (counts and timings) for docs/reliability.md.
 */
@InnerqServiceTest
class ClientFaultTests {

    private static final Duration IDLE_WITHIN = Duration.ofSeconds(5);

    @LocalServerPort
    int port;

    @Autowired
    InnerqEngine engine;

    @Autowired
    MeterRegistry meters;

    Http http;

    @BeforeEach
    void client() throws InterruptedException {
        http = new Http(port);
        EngineState.awaitIdle(engine, IDLE_WITHIN);
    }

    /** A long generation (up to 1800 tokens, about 2 s on one core), so that only the client can end it early. */
    private static String longStream(String path) {
        return path.contains("chat")
                ? """
                {"messages": [{"role": "user", "content": "Once upon a time"}], "max_tokens": 1800,
                 "temperature": 1.5, "seed": 7, "stream": true}"""
                : """
                {"prompt": "Once upon a time", "max_tokens": 1800, "temperature": 1.5, "seed": 7, "stream": true}""";
    }

    @Test
    void clientsThatDisconnectMidStreamFreeTheirCachesAndSlots() throws Exception {
        double cancelledBefore = counter("innerq.generations", "finish", "cancelled");
        double tokensBefore = counter("innerq.tokens", "type", "completion");
        int disconnects = 20;
        var idleAfter = new ArrayList<Double>();
        for (int i = 0; i < disconnects; i++) {
            String path = i % 2 == 0 ? "/v1/completions" : "/v1/chat/completions";
            var stream = RawStream.post(port, path, longStream(path), TEST_KEY, 0);
            assertThat(stream.statusLine()).isEqualTo("HTTP/1.1 200 ");
            assertThat(stream.nextEvent()).startsWith("{");
            if (i % 4 < 2) {
                stream.close();       // FIN after the first chunk
            } else {
                stream.reset();       // RST, as a client process that dies
            }
            idleAfter.add(EngineState.awaitIdle(engine, IDLE_WITHIN));
        }
        EngineState.assertIdleInPrometheus(http, engine.settings().concurrency());
        assertThat(counter("innerq.generations", "finish", "cancelled")).isEqualTo(cancelledBefore + disconnects);
        double tokens = counter("innerq.tokens", "type", "completion") - tokensBefore;
        assertThat(tokens).as("tokens generated after the clients left").isLessThan(disconnects * 300.0);

        int early = 5; // gone before the response started: the first write fails
        for (int i = 0; i < early; i++) {
            String path = i % 2 == 0 ? "/v1/completions" : "/v1/chat/completions";
            RawStream.postAndLeave(port, path, longStream(path), TEST_KEY);
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (counter("innerq.generations", "finish", "cancelled") < cancelledBefore + disconnects + i + 1
                    && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            EngineState.awaitIdle(engine, IDLE_WITHIN);
        }
        EngineState.assertIdleInPrometheus(http, engine.settings().concurrency());
        assertThat(counter("innerq.generations", "finish", "cancelled"))
                .isEqualTo(cancelledBefore + disconnects + early);
        report("disconnects after the first chunk: %d (FIN and RST), then %d before any response; idle again "
                        + "after p50 %.1f ms, max %.1f ms; %.0f tokens generated in all (mean %.1f per stream of 1800)",
                disconnects, early, percentile(idleAfter, 50), percentile(idleAfter, 100),
                counter("innerq.tokens", "type", "completion") - tokensBefore,
                (counter("innerq.tokens", "type", "completion") - tokensBefore) / (disconnects + early));
    }

    @Test
    void slowClientsGetTheWholeStream() throws Exception {
        String request = """
                {"prompt": "Once upon a time", "max_tokens": 60, "temperature": 0, "stream": true}""";
        var fast = http.post("/v1/completions", request, TEST_KEY);
        assertThat(fast.status()).isEqualTo(200);
        String expected = text(fast.events());
        int clients = 4;
        var readMillis = Collections.synchronizedList(new ArrayList<Double>());
        try (var pool = Executors.newFixedThreadPool(clients)) {
            var results = new ArrayList<Future<String>>();
            for (int c = 0; c < clients; c++) {
                results.add(pool.submit((Callable<String>) () -> {
                    long start = System.nanoTime();
                    try (var stream = RawStream.post(port, "/v1/completions", request, TEST_KEY, 4096)) {
                        assertThat(stream.statusLine()).isEqualTo("HTTP/1.1 200 ");
                        var events = new ArrayList<String>();
                        for (String e = stream.nextEvent(); e != null && !e.equals("[DONE]"); e = stream.nextEvent()) {
                            events.add(e);
                            Thread.sleep(10);
                        }
                        readMillis.add((System.nanoTime() - start) / 1e6);
                        return text(events);
                    }
                }));
            }
            for (Future<String> r : results) {
                assertThat(r.get()).isEqualTo(expected);
            }
        }
        double idle = EngineState.awaitIdle(engine, IDLE_WITHIN);
        EngineState.assertIdleInPrometheus(http, engine.settings().concurrency());
        report("slow clients: %d at once on %d slot(s), each reading one event per 10 ms through a 4 KB receive "
                        + "buffer: each read its 60-token stream in p50 %.0f ms, max %.0f ms, all equal to a fast "
                        + "client's; idle %.1f ms after the last", clients, engine.settings().concurrency(),
                percentile(readMillis, 50), percentile(readMillis, 100), idle);
    }

    @Test
    void aClientThatStallsDoesNotHoldItsSlot() throws Exception {
        String request = """
                {"prompt": "Once upon a time", "max_tokens": 200, "temperature": 0, "stream": true}""";
        String expected = text(http.post("/v1/completions", request, TEST_KEY).events());
        int stalls = 3;
        var freedAfter = new ArrayList<Double>();
        for (int i = 0; i < stalls; i++) {
            try (var stream = RawStream.post(port, "/v1/completions", request, TEST_KEY, 4096)) {
                var events = new ArrayList<String>();
                events.add(stream.nextEvent());
                // the client reads nothing more: the generation still ends, into the socket's buffers
                freedAfter.add(EngineState.awaitIdle(engine, IDLE_WITHIN));
                for (String e = stream.nextEvent(); e != null && !e.equals("[DONE]"); e = stream.nextEvent()) {
                    events.add(e);
                }
                assertThat(text(events)).isEqualTo(expected);
            }
        }
        EngineState.assertIdleInPrometheus(http, engine.settings().concurrency());
        report("stalled clients: %d, each reading one event of a 200-token stream and then nothing until the engine "
                        + "was idle: slot and cache free after p50 %.1f ms, max %.1f ms; each then read the whole text",
                stalls, percentile(freedAfter, 50), percentile(freedAfter, 100));
    }

    /** The text of a completion stream's events (up to and without {@code [DONE]}). */
    private static String text(List<String> events) {
        var text = new StringBuilder();
        for (String e : events) {
            if (e.equals("[DONE]")) {
                break;
            }
            JsonNode choices = Http.JSON.readTree(e).path("choices");
            if (!choices.isEmpty()) {
                text.append(choices.get(0).path("text").asString());
            }
        }
        return text.toString();
    }

    private double counter(String name, String tag, String value) {
        var c = meters.find(name).tag(tag, value).counter();
        return c == null ? 0 : c.count();
    }

    static double percentile(List<Double> values, int p) {
        List<Double> sorted = values.stream().sorted().toList();
        int rank = (int) Math.ceil(p / 100.0 * sorted.size());
        return sorted.get(Math.max(0, rank - 1));
    }

    static void report(String format, Object... args) {
        System.out.println("[figures] " + String.format(Locale.ROOT, format, args));
    }
}
