package io.innerq.vulkan;

import org.lwjgl.vulkan.VK;

/**
 * Finds the system's Vulkan loader ({@code libvulkan.so.1}; LWJGL ships none on Linux). The GPU backend starts
 * only when this succeeds; otherwise callers fall back to the CPU with the reason given here.
 */
public final class VulkanLoader {

    private VulkanLoader() {
    }

    /** Why Vulkan cannot be used, or null when the loader is present. */
    public static String unavailableReason() {
        try {
            VK.create();
            return null;
        } catch (Throwable e) { // UnsatisfiedLinkError or IllegalStateException from LWJGL's library loader
            return "no Vulkan loader (libvulkan.so.1) could be loaded: " + e.getMessage()
                    + ". Install the loader and a driver (Debian: libvulkan1 mesa-vulkan-drivers).";
        }
    }
}
