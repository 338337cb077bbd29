package io.innerq.app.autoconfigure;

import io.innerq.app.serving.InnerqEngine;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/** {@code innerq}: up once the model is loaded and its backends are open, with what is running now. */
final class InnerqHealthIndicator implements HealthIndicator {

    private final InnerqEngine engine;

    InnerqHealthIndicator(InnerqEngine engine) {
        this.engine = engine;
    }

    @Override
    public Health health() {
        return Health.up()
                .withDetail("model", engine.modelId())
                .withDetail("backend", engine.backendName())
                .withDetail("slots", engine.settings().concurrency())
                .withDetail("activeGenerations", engine.activeGenerations())
                .withDetail("kvBytesInUse", engine.kvBytesInUse())
                .withDetail("kvBytesReserved", engine.kvBytesReserved())
                .withDetail("kvBudgetBytes", engine.kvBudgetBytes())
                .build();
    }
}
