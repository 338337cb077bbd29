package io.innerq.vulkan;

import static org.lwjgl.vulkan.VK12.*;

/** A Vulkan call failed, or no usable device exists; the message says which and what to do. */
public final class VulkanException extends RuntimeException {

    private final int result;

    public VulkanException(String message) {
        super(message);
        this.result = VK_SUCCESS;
    }

    VulkanException(String call, int result) {
        super("%s failed: %s%s".formatted(call, name(result),
                result == VK_ERROR_DEVICE_LOST ? " (the GPU was lost: its work and memory are gone; the device must be reopened)" : ""));
        this.result = result;
    }

    /** The VkResult, or VK_SUCCESS when the failure is not a Vulkan call's. */
    public int result() {
        return result;
    }

    /** Whether the device was lost (the driver reset it, or it fell off the bus). */
    public boolean deviceLost() {
        return result == VK_ERROR_DEVICE_LOST;
    }

    static String name(int result) {
        return switch (result) {
            case VK_ERROR_OUT_OF_HOST_MEMORY -> "VK_ERROR_OUT_OF_HOST_MEMORY";
            case VK_ERROR_OUT_OF_DEVICE_MEMORY -> "VK_ERROR_OUT_OF_DEVICE_MEMORY";
            case VK_ERROR_INITIALIZATION_FAILED -> "VK_ERROR_INITIALIZATION_FAILED";
            case VK_ERROR_DEVICE_LOST -> "VK_ERROR_DEVICE_LOST";
            case VK_ERROR_MEMORY_MAP_FAILED -> "VK_ERROR_MEMORY_MAP_FAILED";
            case VK_ERROR_LAYER_NOT_PRESENT -> "VK_ERROR_LAYER_NOT_PRESENT";
            case VK_ERROR_EXTENSION_NOT_PRESENT -> "VK_ERROR_EXTENSION_NOT_PRESENT";
            case VK_ERROR_FEATURE_NOT_PRESENT -> "VK_ERROR_FEATURE_NOT_PRESENT";
            case VK_ERROR_INCOMPATIBLE_DRIVER -> "VK_ERROR_INCOMPATIBLE_DRIVER";
            case VK_ERROR_TOO_MANY_OBJECTS -> "VK_ERROR_TOO_MANY_OBJECTS";
            case VK_TIMEOUT -> "VK_TIMEOUT";
            case VK_NOT_READY -> "VK_NOT_READY";
            default -> "VkResult " + result;
        };
    }
}
