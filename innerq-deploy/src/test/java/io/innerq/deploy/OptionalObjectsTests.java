package io.innerq.deploy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Each optional object is rendered when its switch is on, and only then. */
class OptionalObjectsTests {

    @ParameterizedTest
    @CsvSource({
            "podDisruptionBudget.enabled, PodDisruptionBudget",
            "autoscaling.enabled, HorizontalPodAutoscaler",
            "serviceMonitor.enabled, ServiceMonitor",
            "networkPolicy.enabled, NetworkPolicy"})
    void switchAddsItsObjectAlone(String key, String kind) {
        assertThat(HelmChart.render(Map.of(key, false)).kinds()).doesNotContain(kind)
                .containsExactlyInAnyOrder("ConfigMap", "Service", "Deployment");
        assertThat(HelmChart.render(Map.of(key, true)).kinds())
                .containsExactlyInAnyOrder("ConfigMap", "Service", "Deployment", kind);
    }

    @ParameterizedTest
    @CsvSource({
            "podDisruptionBudget.enabled, PodDisruptionBudget",
            "autoscaling.enabled, HorizontalPodAutoscaler",
            "serviceMonitor.enabled, ServiceMonitor",
            "networkPolicy.enabled, NetworkPolicy"})
    void productionExampleCanSwitchEachOff(String key, String kind) {
        assertThat(HelmChart.render(Map.of(key, false), "values-production.yaml").kinds()).doesNotContain(kind);
    }
}
