package io.innerq.vulkan;

import org.lwjgl.vulkan.VK;

/**
 * Finds the system's Vulkan loader ({@code libvulkan.so.1}; LWJGL ships none on Linux). The GPU backend starts
 * only when this succeeds; otherwise callers fall back to the CPU with the reason given here.
 */
public final class VulkanLoader {

    private VulkanLoader() {
    }

    private static String reason;
    private static boolean loaded;

    /** Why Vulkan cannot be used, or null when the loader is present (loads it once per JVM). */
    public static synchronized String unavailableReason() {
        if (!loaded) {
            loaded = true;
            try {
                if (VK.getFunctionProvider() == null) { // LWJGL loads the library when VK is first used
                    VK.create();
                }
            } catch (Throwable e) { // UnsatisfiedLinkError or IllegalStateException from LWJGL's library loader
                reason = "no Vulkan loader (libvulkan.so.1) could be loaded: " + e.getMessage()
                        + ". Install the loader and a driver (Debian: libvulkan1 mesa-vulkan-drivers).";
            }
        }
        return reason;
    }
}
