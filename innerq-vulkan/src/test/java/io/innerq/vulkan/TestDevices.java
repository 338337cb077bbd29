package io.innerq.vulkan;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Opens the test device with validation on (the surefire configuration sets {@code innerq.vulkan.validation}). Never
 * skips: without a Vulkan loader, a device or the validation layer the tests fail with the reason.
 */
public final class TestDevices {

    private TestDevices() {
    }

    public static VulkanDevice open() {
        var options = VulkanDevice.Options.fromSystemProperties();
        assertThat(options.validation()).as("tests run with innerq.vulkan.validation=true").isTrue();
        return VulkanDevice.open(options);
    }

    /** Fails with the messages when the validation layer reported any warning or error. */
    public static void assertNoValidationMessages(VulkanDevice device) {
        assertThat(device.validationMessages()).as("validation messages on " + device.info()).isEmpty();
    }
}
