package io.innerq.autoconfigure;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.innerq.serving.GpuCircuit;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The engine's GPU circuit as a Resilience4j {@link CircuitBreaker} ({@code innerq-gpu}): it opens when half of the
 * last 4 GPU generations (at least 2) failed on the device, sends generations to the CPU for 30 s, then lets one
 * trial through.
 */
final class Resilience4jGpuCircuit implements GpuCircuit {

    private final CircuitBreaker breaker = CircuitBreaker.of("innerq-gpu", CircuitBreakerConfig.custom()
            .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
            .slidingWindowSize(4)
            .minimumNumberOfCalls(2)
            .failureRateThreshold(50)
            .waitDurationInOpenState(Duration.ofSeconds(30))
            .permittedNumberOfCallsInHalfOpenState(1)
            .build());

    @Override
    public boolean tryGpu() {
        return breaker.tryAcquirePermission();
    }

    @Override
    public void onSuccess(long nanos) {
        breaker.onSuccess(nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void onDeviceFailure(long nanos, RuntimeException failure) {
        breaker.onError(nanos, TimeUnit.NANOSECONDS, failure);
    }

    @Override
    public void onOtherFailure(long nanos) {
        breaker.releasePermission();
    }

    @Override
    public String state() {
        return breaker.getState().name();
    }
}
