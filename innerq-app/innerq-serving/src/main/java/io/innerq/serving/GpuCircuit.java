package io.innerq.serving;

/**
 * Whether a generation tries the GPU, from how earlier tries went: a circuit breaker around the device. The
 * engine reports every GPU generation's outcome; with the circuit open, generations go straight to the CPU.
 * {@link #ALWAYS} tries the GPU every time (a generation whose device fails before its first token still runs again on
 * the CPU); the Spring Boot auto-configuration gives a Resilience4j circuit breaker when Resilience4j is present.
 */
public interface GpuCircuit {

    /** True when the next generation may run on the GPU. */
    boolean tryGpu();

    /** A GPU generation ended well after {@code nanos}. */
    void onSuccess(long nanos);

    /** A GPU generation failed because of the device. */
    void onDeviceFailure(long nanos, RuntimeException failure);

    /** A GPU generation failed for a reason that is not the device's (a bad request, say): it does not count. */
    void onOtherFailure(long nanos);

    /** {@code CLOSED} (the GPU in use), {@code OPEN} (generations go to the CPU) or {@code HALF_OPEN} (trying it). */
    String state();

    /** No breaker: every generation tries the GPU. */
    GpuCircuit ALWAYS = new GpuCircuit() {
        @Override
        public boolean tryGpu() {
            return true;
        }

        @Override
        public void onSuccess(long nanos) {
        }

        @Override
        public void onDeviceFailure(long nanos, RuntimeException failure) {
        }

        @Override
        public void onOtherFailure(long nanos) {
        }

        @Override
        public String state() {
            return "CLOSED";
        }
    };
}
