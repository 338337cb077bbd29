package io.innerq.server;

import io.innerq.serving.InnerqEngine;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Whether the service is idle: no generation running, no KV bytes held or reserved, every slot free; by the engine's
 * accessors and by what {@code /actuator/prometheus} shows an operator.
 */
final class EngineState {

    private EngineState() {
    }

    /**
     * Waits up to {@code within} for the engine to be idle.
     *
     * @return milliseconds waited
     * @throws AssertionError naming what is still held
     */
    static double awaitIdle(InnerqEngine engine, Duration within) throws InterruptedException {
        long start = System.nanoTime();
        long deadline = start + within.toNanos();
        while (!idle(engine) && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        assertThat(describe(engine)).as("the engine after %s", within).isEqualTo(idleDescription(engine));
        return (System.nanoTime() - start) / 1e6;
    }

    static boolean idle(InnerqEngine engine) {
        return describe(engine).equals(idleDescription(engine));
    }

    private static String describe(InnerqEngine engine) {
        return "generations %d, KV bytes in use %d, reserved %d, free slots %d".formatted(engine.activeGenerations(),
                engine.kvBytesInUse(), engine.kvBytesReserved(), engine.freeSlots());
    }

    private static String idleDescription(InnerqEngine engine) {
        return "generations 0, KV bytes in use 0, reserved 0, free slots %d".formatted(engine.settings().concurrency());
    }

    /** The same, as the actuator's Prometheus scrape shows it. */
    static void assertIdleInPrometheus(Http http, int slots) {
        var scrape = http.get("/actuator/prometheus", null);
        assertThat(scrape.status()).isEqualTo(200);
        Map<String, Double> values = gauges(scrape.body());
        assertThat(values).containsEntry("innerq_generation_active", 0.0)
                .containsEntry("innerq_kv_used_bytes", 0.0)
                .containsEntry("innerq_kv_reserved_bytes", 0.0)
                .containsEntry("innerq_bulkhead_available_slots", (double) slots);
    }

    /** Unlabelled samples of a Prometheus text scrape. */
    static Map<String, Double> gauges(String scrape) {
        var values = new HashMap<String, Double>();
        for (String line : scrape.lines().toList()) {
            if (line.startsWith("#") || line.contains("{")) {
                continue;
            }
            String[] parts = line.split(" ");
            if (parts.length == 2) {
                values.put(parts[0], Double.parseDouble(parts[1]));
            }
        }
        return values;
    }
}
