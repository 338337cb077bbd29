package io.innerq.deploy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** values.schema.json rejects values the service or Kubernetes would refuse, naming the field. */
class SchemaTests {

    @Test
    void unknownBackend() {
        assertThat(HelmChart.renderError(Map.of("innerq.backend", "gpu")))
                .contains("/innerq/backend").contains("'auto', 'vulkan', 'cpu', 'scalar'");
    }

    @Test
    void negativeReplicaCount() {
        assertThat(HelmChart.renderError(Map.of("replicaCount", -1))).contains("/replicaCount").contains("minimum");
    }

    @Test
    void unknownTopLevelKey() {
        assertThat(HelmChart.renderError(Map.of("replicas", 2))).contains("additional properties 'replicas'");
    }

    @Test
    void misspelledNestedKey() {
        assertThat(HelmChart.renderError(Map.of("gpu.enable", true))).contains("/gpu")
                .contains("additional properties 'enable'");
    }

    @Test
    void unknownKvMode() {
        assertThat(HelmChart.renderError(Map.of("innerq.kv.mode", "int3"))).contains("/innerq/kv/mode");
    }

    @ParameterizedTest
    @ValueSource(strings = {"fp16", "q8_0", "kivi-2", "innerq-4", "innerq:k3,v2h,g32,s32,r96,norm"})
    void kvModesTheServiceParses(String mode) {
        assertThat(HelmChart.render(Map.of("innerq.kv.mode", mode)).applicationProperties())
                .containsEntry("spring.ai.innerq.kv.mode", mode);
    }

    @Test
    void budgetInSpringsUnits() {
        assertThat(HelmChart.renderError(Map.of("innerq.kv.budget", "2GiB"))).contains("/innerq/kv/budget");
    }

    @Test
    void zeroConcurrency() {
        assertThat(HelmChart.renderError(Map.of("innerq.concurrency", 0))).contains("/innerq/concurrency");
    }

    @Test
    void apiKeyInsteadOfItsHash() {
        assertThat(HelmChart.renderError(Map.of("apiKeys.hashes[0]", "sk-my-secret-key")))
                .contains("/apiKeys/hashes/0");
    }

    @Test
    void downloadWithoutSha256() {
        assertThat(HelmChart.renderError(Map.of("model.source", "download",
                "model.download.url", "https://example.com/m.gguf"))).contains("/model/download").contains("sha256");
    }

    @Test
    void gpuWithoutGraphicsCapability() {
        assertThat(HelmChart.renderError(Map.of("gpu.driverCapabilities", "compute,utility")))
                .contains("/gpu/driverCapabilities");
    }
}
