package io.innerq.serving;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether the GPU adapter is on the class path, asked before any class that uses it is loaded: innerq-vulkan and
 * LWJGL are optional for applications (the starter leaves them out), and a GPU backend needs them.
 */
final class GpuSupport {

    static final String ARTIFACT = "io.innerq:innerq-vulkan";

    private static final Logger log = LoggerFactory.getLogger(GpuSupport.class);

    private GpuSupport() {
    }

    static boolean onClassPath() {
        try {
            Class.forName("io.innerq.vulkan.VulkanDevice", false, GpuSupport.class.getClassLoader());
            Class.forName("org.lwjgl.vulkan.VK10", false, GpuSupport.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /**
     * The device {@code kind} asks for: for {@link BackendKind#AUTO} a Vulkan GPU, or null (with the reason logged)
     * when there is none; for {@link BackendKind#VULKAN} the best device, or an error that says what to do; null for
     * host backends.
     */
    static GpuRuntime open(BackendKind kind) {
        return switch (kind) {
            case CPU, SCALAR -> null;
            case AUTO -> {
                if (!onClassPath()) {
                    log.debug("backend auto: {} is not on the class path; using the CPU", ARTIFACT);
                    yield null;
                }
                yield GpuRuntime.open(true);
            }
            case VULKAN -> {
                if (!onClassPath()) {
                    throw new IllegalStateException(("the vulkan backend needs %s (and LWJGL) on the class path: add "
                            + "that dependency, or use the cpu backend").formatted(ARTIFACT));
                }
                yield GpuRuntime.open(false);
            }
        };
    }
}
