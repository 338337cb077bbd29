package io.innerq.autoconfigure;

import io.innerq.serving.InnerqEngine;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * {@code innerq}: up once the model is loaded and its backends are open, with what is running now. A GPU problem
 * does not make it down: generations then run on the CPU, and {@code gpuCircuit} (OPEN) and {@code gpuFallbacks} say so.
 */
final class InnerqHealthIndicator implements HealthIndicator {

    private final InnerqEngine engine;

    InnerqHealthIndicator(InnerqEngine engine) {
        this.engine = engine;
    }

    @Override
    public Health health() {
        var health = Health.up()
                .withDetail("model", engine.modelId())
                .withDetail("backend", engine.backendName());
        if (engine.gpuDevice() != null) {
            health.withDetail("gpu", engine.gpuDevice())
                    .withDetail("gpuCircuit", engine.gpuCircuitState())
                    .withDetail("gpuFallbacks", engine.gpuFallbacks());
        }
        return health
                .withDetail("slots", engine.settings().concurrency())
                .withDetail("activeGenerations", engine.activeGenerations())
                .withDetail("kvBytesInUse", engine.kvBytesInUse())
                .withDetail("kvBytesReserved", engine.kvBytesReserved())
                .withDetail("kvBudgetBytes", engine.kvBudgetBytes())
                .build();
    }
}
