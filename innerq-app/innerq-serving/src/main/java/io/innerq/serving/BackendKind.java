package io.innerq.serving;

import java.util.Locale;

/** Which hardware runs the forward pass, as a user names it. Parsed once, where the setting is read. */
public enum BackendKind {
    /** A Vulkan GPU when one is found (and innerq-vulkan is on the class path), else the CPU. */
    AUTO,
    /** Vector API kernels on the CPU's cores; the scalar reference when the JVM lacks {@code jdk.incubator.vector}. */
    CPU,
    /** The whole token step on a Vulkan device, the CPU as the fallback. */
    VULKAN,
    /** The single-threaded reference ports. */
    SCALAR;

    /** The name a user writes: {@code auto}, {@code cpu}, {@code vulkan}, {@code scalar}. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * @param setting what names the value in error messages, e.g. {@code --backend} or {@code spring.ai.innerq.backend}
     */
    public static BackendKind parse(String value, String setting) {
        if (value != null) {
            for (BackendKind kind : values()) {
                if (kind.id().equals(value.strip().toLowerCase(Locale.ROOT))) {
                    return kind;
                }
            }
        }
        throw new IllegalArgumentException("unknown backend '%s' (%s): use auto, cpu, vulkan or scalar"
                .formatted(value, setting));
    }
}
