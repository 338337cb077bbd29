package io.innerq.deploy;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static io.innerq.deploy.Manifests.at;
import static org.assertj.core.api.Assertions.assertThat;

/** values-gpu.yaml: an NVIDIA GPU through Vulkan. */
class GpuValuesTests {

    private static final Manifests RELEASE = HelmChart.render("values-gpu.yaml");

    @Test
    void requestsOneGpuNextToTheCpuResources() {
        var resources = RELEASE.container().get("resources");
        assertThat(at(resources, "requests")).isEqualTo(Map.of("nvidia.com/gpu", 1, "cpu", "8", "memory", "16Gi"));
        assertThat(at(resources, "limits")).isEqualTo(Map.of("nvidia.com/gpu", 1, "memory", "24Gi"));
    }

    @Test
    void driverCapabilitiesIncludeGraphicsForVulkan() {
        assertThat(at(RELEASE.container(), "env[name=NVIDIA_DRIVER_CAPABILITIES].value"))
                .isEqualTo("compute,utility,graphics");
        // The device plugin sets NVIDIA_VISIBLE_DEVICES to the allocated GPU; the chart does not override it.
        assertThat(RELEASE.env("NVIDIA_VISIBLE_DEVICES")).isEmpty();
    }

    @Test
    void backendIsVulkanWhateverInnerqBackendSays() {
        assertThat(RELEASE.applicationProperties()).containsEntry("spring.ai.innerq.backend", "vulkan")
                .containsEntry("spring.ai.innerq.kv.budget", "8GB")
                .containsEntry("spring.ai.innerq.threads", "8")
                .containsEntry("spring.ai.innerq.concurrency", "2");
        var cpuAsked = HelmChart.render(Map.of("innerq.backend", "cpu"), "values-gpu.yaml");
        assertThat(cpuAsked.applicationProperties()).containsEntry("spring.ai.innerq.backend", "vulkan");
    }

    @Test
    void schedulesOnGpuNodes() {
        var pod = RELEASE.podSpec();
        assertThat(pod.get("nodeSelector")).isEqualTo(Map.of("nvidia.com/gpu.present", "true"));
        assertThat(pod.get("tolerations")).isEqualTo(
                List.of(Map.of("key", "nvidia.com/gpu", "operator", "Exists", "effect", "NoSchedule")));
        assertThat(pod).doesNotContainKey("runtimeClassName");
    }

    @Test
    void replacesPodsWithoutASurgeThatWouldWaitForTheGpu() {
        assertThat(at(RELEASE.get("Deployment"), "spec.strategy.rollingUpdate"))
                .isEqualTo(Map.of("maxSurge", 0, "maxUnavailable", 1));
    }

    @Test
    void optionalRuntimeClassVisibleDevicesAndIcdFile() {
        var release = HelmChart.render(Map.of("gpu.runtimeClassName", "nvidia", "gpu.visibleDevices", "all",
                "gpu.vulkanIcdFile", "/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json",
                "gpu.count", 2), "values-gpu.yaml");
        assertThat(release.podSpec().get("runtimeClassName")).isEqualTo("nvidia");
        assertThat(at(release.container(), "env[name=NVIDIA_VISIBLE_DEVICES].value")).isEqualTo("all");
        assertThat(at(release.container(), "env[name=VK_DRIVER_FILES].value"))
                .isEqualTo("/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json");
        assertThat(Manifests.map(at(release.container(), "resources.limits")).get("nvidia.com/gpu")).isEqualTo(2);
    }

    @Test
    void gpuSettingsStayOffCpuPods() {
        var release = HelmChart.render(Map.of("gpu.runtimeClassName", "nvidia", "gpu.visibleDevices", "all"));
        assertThat(release.podSpec()).doesNotContainKey("runtimeClassName");
        assertThat(release.env("NVIDIA_VISIBLE_DEVICES")).isEmpty();
        assertThat(Manifests.map(at(release.container(), "resources.limits"))).doesNotContainKey("nvidia.com/gpu");
    }
}
