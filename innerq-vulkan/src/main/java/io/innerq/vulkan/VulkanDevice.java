package io.innerq.vulkan;

import org.lwjgl.PointerBuffer;
import org.lwjgl.system.MemoryStack;
import org.lwjgl.vulkan.*;

import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.lwjgl.system.MemoryStack.stackPush;
import static org.lwjgl.system.MemoryUtil.NULL;
import static org.lwjgl.vulkan.EXTDebugUtils.*;
import static org.lwjgl.vulkan.VK12.*;

/**
 * A headless Vulkan compute device: instance, the chosen physical device and a logical device with one compute
 * queue. Owns those handles; everything created from it ({@link VulkanBuffer}, {@link ComputeKernel},
 * {@link DescriptorPool}, {@link CommandBatch}) must be closed before it. Safe for use from several threads.
 *
 * <p>Selection: {@code options.device()} picks by index or by a substring of the name; otherwise the first discrete
 * GPU, then integrated, virtual, and last the CPU implementation (lavapipe). With {@code options.validation()} the
 * Khronos validation layer is required and every warning or error it reports is kept in {@link #validationMessages()}.
 */
public final class VulkanDevice implements AutoCloseable {

    /** How to open a device. {@code device}: an index or part of a name, or null for the best available. */
    public record Options(boolean validation, String device) {
        /** From the system properties {@code innerq.vulkan.validation} and {@code innerq.vulkan.device}. */
        public static Options fromSystemProperties() {
            return new Options(Boolean.getBoolean("innerq.vulkan.validation"), System.getProperty("innerq.vulkan.device"));
        }
    }

    private static final String VALIDATION_LAYER = "VK_LAYER_KHRONOS_validation";

    private final VkInstance instance;
    private final long messenger;
    private final VkPhysicalDevice physical;
    private final VkDevice device;
    private final VkQueue queue;
    private final int queueFamily;
    private final DeviceInfo info;
    private final boolean integerDotProduct;
    private final VkPhysicalDeviceMemoryProperties memory;
    private final List<String> messages = new CopyOnWriteArrayList<>();
    private final VkDebugUtilsMessengerCallbackEXT callback;
    private boolean closed;

    /**
     * Static facts about the device, for logs, health and benchmark reports. {@code integerDotProduct}: shaders may use
     * GL_EXT_integer_dot_product (VK_KHR_shader_integer_dot_product is enabled); {@code integerDotProductAccelerated}:
     * the device says its signed 4x8-bit packed dot product is faster than the same arithmetic written out.
     */
    public record DeviceInfo(String name, String type, String driver, String apiVersion, int vendorId,
                             double timestampPeriodNs, long maxStorageBufferRange, int maxSharedMemory,
                             int subgroupSize, int maxPushConstants, boolean integerDotProduct,
                             boolean integerDotProductAccelerated) {
        public boolean isCpu() {
            return type.equals("cpu");
        }

        @Override
        public String toString() {
            return "%s (%s, Vulkan %s, driver %s)".formatted(name, type, apiVersion, driver);
        }
    }

    private VulkanDevice(Options options) {
        String loader = VulkanLoader.unavailableReason();
        if (loader != null) {
            throw new VulkanException(loader);
        }
        callback = options.validation() ? VkDebugUtilsMessengerCallbackEXT.create(this::onMessage) : null;
        try (MemoryStack stack = stackPush()) {
            instance = createInstance(stack, options.validation());
            messenger = options.validation() ? createMessenger(stack) : NULL;
            List<Candidate> candidates = candidates(stack);
            Candidate chosen = choose(candidates, options.device());
            physical = chosen.device;
            queueFamily = chosen.queueFamily;
            integerDotProduct = supportsIntegerDotProduct(stack, physical);
            device = createDevice(stack);
            PointerBuffer pq = stack.mallocPointer(1);
            vkGetDeviceQueue(device, queueFamily, 0, pq);
            queue = new VkQueue(pq.get(0), device);
            memory = VkPhysicalDeviceMemoryProperties.malloc();
            vkGetPhysicalDeviceMemoryProperties(physical, memory);
            info = describe(stack, chosen);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Opens the best device (or the one {@code options} names). */
    public static VulkanDevice open(Options options) {
        return new VulkanDevice(options);
    }

    private VkInstance createInstance(MemoryStack stack, boolean validation) {
        if (validation && !layerAvailable(stack)) {
            throw new VulkanException(VALIDATION_LAYER + " is not installed: install it (Debian: vulkan-validationlayers) "
                    + "or run without innerq.vulkan.validation");
        }
        VkApplicationInfo app = VkApplicationInfo.calloc(stack)
                .sType$Default()
                .pApplicationName(stack.UTF8("InnerQ"))
                .pEngineName(stack.UTF8("InnerQ"))
                .apiVersion(VK_API_VERSION_1_2);
        PointerBuffer layers = null;
        PointerBuffer extensions = null;
        if (validation) {
            layers = stack.pointers(stack.UTF8(VALIDATION_LAYER));
            extensions = stack.pointers(stack.UTF8(VK_EXT_DEBUG_UTILS_EXTENSION_NAME));
        }
        VkInstanceCreateInfo create = VkInstanceCreateInfo.calloc(stack)
                .sType$Default()
                .pApplicationInfo(app)
                .ppEnabledLayerNames(layers)
                .ppEnabledExtensionNames(extensions);
        PointerBuffer pInstance = stack.mallocPointer(1);
        check(vkCreateInstance(create, null, pInstance), "vkCreateInstance");
        return new VkInstance(pInstance.get(0), create);
    }

    private static boolean layerAvailable(MemoryStack stack) {
        IntBuffer count = stack.mallocInt(1);
        check(vkEnumerateInstanceLayerProperties(count, null), "vkEnumerateInstanceLayerProperties");
        try (VkLayerProperties.Buffer props = VkLayerProperties.malloc(count.get(0))) {
            check(vkEnumerateInstanceLayerProperties(count, props), "vkEnumerateInstanceLayerProperties");
            for (VkLayerProperties p : props) {
                if (p.layerNameString().equals(VALIDATION_LAYER)) {
                    return true;
                }
            }
        }
        return false;
    }

    private long createMessenger(MemoryStack stack) {
        VkDebugUtilsMessengerCreateInfoEXT create = VkDebugUtilsMessengerCreateInfoEXT.calloc(stack)
                .sType$Default()
                .messageSeverity(VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT)
                .messageType(VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT
                        | VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT)
                .pfnUserCallback(callback);
        LongBuffer p = stack.mallocLong(1);
        check(vkCreateDebugUtilsMessengerEXT(instance, create, null, p), "vkCreateDebugUtilsMessengerEXT");
        return p.get(0);
    }

    private int onMessage(int severity, int types, long pData, long userData) {
        var data = VkDebugUtilsMessengerCallbackDataEXT.create(pData);
        messages.add(data.pMessageString());
        return VK_FALSE;
    }

    private record Candidate(VkPhysicalDevice device, int index, String name, int type, int queueFamily) {
    }

    private List<Candidate> candidates(MemoryStack stack) {
        IntBuffer count = stack.mallocInt(1);
        check(vkEnumeratePhysicalDevices(instance, count, null), "vkEnumeratePhysicalDevices");
        PointerBuffer handles = stack.mallocPointer(count.get(0));
        check(vkEnumeratePhysicalDevices(instance, count, handles), "vkEnumeratePhysicalDevices");
        List<Candidate> list = new ArrayList<>();
        for (int i = 0; i < handles.capacity(); i++) {
            VkPhysicalDevice pd = new VkPhysicalDevice(handles.get(i), instance);
            VkPhysicalDeviceProperties props = VkPhysicalDeviceProperties.malloc(stack);
            vkGetPhysicalDeviceProperties(pd, props);
            int family = computeFamily(stack, pd);
            if (family >= 0 && VK_API_VERSION_MAJOR(props.apiVersion()) == 1 && VK_API_VERSION_MINOR(props.apiVersion()) >= 2) {
                list.add(new Candidate(pd, i, props.deviceNameString(), props.deviceType(), family));
            }
        }
        return list;
    }

    private static int computeFamily(MemoryStack stack, VkPhysicalDevice pd) {
        IntBuffer count = stack.mallocInt(1);
        vkGetPhysicalDeviceQueueFamilyProperties(pd, count, null);
        VkQueueFamilyProperties.Buffer families = VkQueueFamilyProperties.malloc(count.get(0), stack);
        vkGetPhysicalDeviceQueueFamilyProperties(pd, count, families);
        int fallback = -1;
        for (int i = 0; i < families.capacity(); i++) {
            int flags = families.get(i).queueFlags();
            if ((flags & VK_QUEUE_COMPUTE_BIT) != 0 && families.get(i).timestampValidBits() > 0) {
                if ((flags & VK_QUEUE_GRAPHICS_BIT) != 0) {
                    fallback = fallback < 0 ? i : fallback;
                } else {
                    return i; // a dedicated compute family
                }
            }
        }
        return fallback;
    }

    private static Candidate choose(List<Candidate> candidates, String wanted) {
        if (candidates.isEmpty()) {
            throw new VulkanException("no Vulkan 1.2 device with a compute queue and timestamps was found: install a GPU "
                    + "driver, or Mesa's CPU implementation (Debian: mesa-vulkan-drivers)");
        }
        if (wanted != null && !wanted.isBlank()) {
            for (Candidate c : candidates) {
                if (String.valueOf(c.index).equals(wanted.strip())
                        || c.name.toLowerCase(Locale.ROOT).contains(wanted.strip().toLowerCase(Locale.ROOT))) {
                    return c;
                }
            }
            throw new VulkanException("no Vulkan device matches innerq.vulkan.device=" + wanted + "; found: "
                    + candidates.stream().map(c -> c.index + ": " + c.name).toList());
        }
        return candidates.stream().min(Comparator.comparingInt(c -> rank(c.type))).orElseThrow();
    }

    private static int rank(int type) {
        return switch (type) {
            case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU -> 0;
            case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU -> 1;
            case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU -> 2;
            case VK_PHYSICAL_DEVICE_TYPE_CPU -> 4;
            default -> 3;
        };
    }

    /** Whether the device offers VK_KHR_shader_integer_dot_product with its one feature. */
    private static boolean supportsIntegerDotProduct(MemoryStack stack, VkPhysicalDevice pd) {
        IntBuffer count = stack.mallocInt(1);
        check(vkEnumerateDeviceExtensionProperties(pd, (String) null, count, null), "vkEnumerateDeviceExtensionProperties");
        boolean listed = false;
        try (VkExtensionProperties.Buffer props = VkExtensionProperties.malloc(count.get(0))) {
            check(vkEnumerateDeviceExtensionProperties(pd, (String) null, count, props), "vkEnumerateDeviceExtensionProperties");
            for (VkExtensionProperties p : props) {
                listed |= p.extensionNameString().equals(KHRShaderIntegerDotProduct.VK_KHR_SHADER_INTEGER_DOT_PRODUCT_EXTENSION_NAME);
            }
        }
        if (!listed) {
            return false;
        }
        VkPhysicalDeviceShaderIntegerDotProductFeaturesKHR dot = VkPhysicalDeviceShaderIntegerDotProductFeaturesKHR.calloc(stack)
                .sType$Default();
        VkPhysicalDeviceFeatures2 features = VkPhysicalDeviceFeatures2.calloc(stack).sType$Default().pNext(dot.address());
        vkGetPhysicalDeviceFeatures2(pd, features);
        return dot.shaderIntegerDotProduct();
    }

    private VkDevice createDevice(MemoryStack stack) {
        VkDeviceQueueCreateInfo.Buffer queues = VkDeviceQueueCreateInfo.calloc(1, stack)
                .sType$Default()
                .queueFamilyIndex(queueFamily)
                .pQueuePriorities(stack.floats(1f));
        VkDeviceCreateInfo create = VkDeviceCreateInfo.calloc(stack)
                .sType$Default()
                .pQueueCreateInfos(queues);
        if (integerDotProduct) {
            VkPhysicalDeviceShaderIntegerDotProductFeaturesKHR dot = VkPhysicalDeviceShaderIntegerDotProductFeaturesKHR
                    .calloc(stack).sType$Default().shaderIntegerDotProduct(true);
            create.pNext(dot.address())
                    .ppEnabledExtensionNames(stack.pointers(stack.UTF8(
                            KHRShaderIntegerDotProduct.VK_KHR_SHADER_INTEGER_DOT_PRODUCT_EXTENSION_NAME)));
        }
        PointerBuffer p = stack.mallocPointer(1);
        check(vkCreateDevice(physical, create, null, p), "vkCreateDevice");
        return new VkDevice(p.get(0), physical, create, VK_API_VERSION_1_2);
    }

    private DeviceInfo describe(MemoryStack stack, Candidate chosen) {
        VkPhysicalDeviceSubgroupProperties subgroup = VkPhysicalDeviceSubgroupProperties.calloc(stack).sType$Default();
        VkPhysicalDeviceDriverProperties driver = VkPhysicalDeviceDriverProperties.calloc(stack).sType$Default();
        VkPhysicalDeviceShaderIntegerDotProductPropertiesKHR dot = VkPhysicalDeviceShaderIntegerDotProductPropertiesKHR
                .calloc(stack).sType$Default();
        subgroup.pNext(driver.address());
        if (integerDotProduct) {
            driver.pNext(dot.address());
        }
        VkPhysicalDeviceProperties2 props2 = VkPhysicalDeviceProperties2.calloc(stack).sType$Default().pNext(subgroup.address());
        vkGetPhysicalDeviceProperties2(physical, props2);
        VkPhysicalDeviceProperties p = props2.properties();
        VkPhysicalDeviceLimits limits = p.limits();
        int api = p.apiVersion();
        String type = switch (p.deviceType()) {
            case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU -> "discrete GPU";
            case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU -> "integrated GPU";
            case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU -> "virtual GPU";
            case VK_PHYSICAL_DEVICE_TYPE_CPU -> "cpu";
            default -> "other";
        };
        String driverText = driver.driverNameString() + " " + driver.driverInfoString();
        long range = Integer.toUnsignedLong(limits.maxStorageBufferRange());
        return new DeviceInfo(chosen.name, type, driverText.strip(),
                VK_API_VERSION_MAJOR(api) + "." + VK_API_VERSION_MINOR(api) + "." + VK_API_VERSION_PATCH(api),
                p.vendorID(), limits.timestampPeriod(), range, limits.maxComputeSharedMemorySize(),
                subgroup.subgroupSize(), limits.maxPushConstantsSize(), integerDotProduct,
                integerDotProduct && dot.integerDotProduct4x8BitPackedSignedAccelerated());
    }

    /**
     * A memory type index for {@code typeBits} with all of {@code required}, preferring one that also has all of
     * {@code preferred}.
     */
    int memoryType(int typeBits, int required, int preferred) {
        int fallback = -1;
        for (int i = 0; i < memory.memoryTypeCount(); i++) {
            if ((typeBits & (1 << i)) == 0) {
                continue;
            }
            int flags = memory.memoryTypes(i).propertyFlags();
            if ((flags & required) == required) {
                if ((flags & preferred) == preferred) {
                    return i;
                }
                fallback = fallback < 0 ? i : fallback;
            }
        }
        if (fallback < 0) {
            throw new VulkanException("no memory type with flags 0x" + Integer.toHexString(required) + " on " + info.name());
        }
        return fallback;
    }


    public DeviceInfo info() {
        return info;
    }

    /** Warnings and errors the validation layer reported so far (empty without validation). */
    public List<String> validationMessages() {
        return List.copyOf(messages);
    }


    VkDevice handle() {
        return device;
    }

    VkQueue queue() {
        return queue;
    }

    int queueFamily() {
        return queueFamily;
    }

    /** Submits to the one queue (Vulkan requires submissions to a queue to be serialized). */
    void submit(VkSubmitInfo submit, long fence) {
        synchronized (queue) {
            check(vkQueueSubmit(queue, submit, fence), "vkQueueSubmit");
        }
    }

    /** Waits until the queue has run everything submitted to it (vkQueueWaitIdle needs the queue's lock too). */
    void waitIdle() {
        synchronized (queue) {
            check(vkQueueWaitIdle(queue), "vkQueueWaitIdle");
        }
    }

    /** Gives a handle a debug name (shown by validation messages and GPU debuggers); a no-op without validation. */
    void name(int objectType, long handle, String name) {
        if (messenger == NULL) {
            return;
        }
        try (MemoryStack stack = stackPush()) {
            vkSetDebugUtilsObjectNameEXT(device, VkDebugUtilsObjectNameInfoEXT.calloc(stack).sType$Default()
                    .objectType(objectType).objectHandle(handle).pObjectName(stack.UTF8(name)));
        }
    }

    /** Throws a {@link VulkanException} naming {@code call} when {@code result} is not VK_SUCCESS. */
    static void check(int result, String call) {
        if (result != VK_SUCCESS) {
            throw new VulkanException(call, result);
        }
    }


    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (device != null) {
            vkDeviceWaitIdle(device);
            vkDestroyDevice(device, null);
        }
        if (memory != null) {
            memory.free();
        }
        if (instance != null) {
            if (messenger != NULL) {
                vkDestroyDebugUtilsMessengerEXT(instance, messenger, null);
            }
            vkDestroyInstance(instance, null);
        }
        if (callback != null) {
            callback.free();
        }
    }
}
