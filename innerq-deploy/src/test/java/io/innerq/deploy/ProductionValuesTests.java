package io.innerq.deploy;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static io.innerq.deploy.Manifests.at;
import static org.assertj.core.api.Assertions.assertThat;

/** values-production.yaml: autoscaled replicas, keys from an existing Secret, a downloaded model, monitoring. */
class ProductionValuesTests {

    private static final Manifests RELEASE = HelmChart.render("values-production.yaml");

    @Test
    void rendersEveryOptionalObject() {
        assertThat(RELEASE.kinds()).containsExactlyInAnyOrder("ConfigMap", "Service", "Deployment",
                "PersistentVolumeClaim", "PodDisruptionBudget", "HorizontalPodAutoscaler", "ServiceMonitor",
                "NetworkPolicy");
    }

    @Test
    void autoscalerOwnsTheReplicaCount() {
        var deployment = RELEASE.get("Deployment");
        assertThat(Manifests.map(deployment.get("spec"))).doesNotContainKey("replicas");
        var hpa = RELEASE.get("HorizontalPodAutoscaler");
        assertThat(at(hpa, "spec.scaleTargetRef")).isEqualTo(Map.of("apiVersion", "apps/v1", "kind", "Deployment",
                "name", at(deployment, "metadata.name")));
        assertThat(at(hpa, "spec.minReplicas")).isEqualTo(2);
        assertThat(at(hpa, "spec.maxReplicas")).isEqualTo(6);
        assertThat(at(hpa, "spec.metrics[type=Resource].resource.target.averageUtilization")).isEqualTo(70);
    }

    @Test
    void disruptionBudgetKeepsOnePodOfThisRelease() {
        var pdb = RELEASE.get("PodDisruptionBudget");
        assertThat(at(pdb, "spec.minAvailable")).isEqualTo(1);
        assertThat(Manifests.map(pdb.get("spec"))).doesNotContainKey("maxUnavailable");
        assertThat(at(pdb, "spec.selector.matchLabels"))
                .isEqualTo(at(RELEASE.get("Deployment"), "spec.selector.matchLabels"));
    }

    @Test
    void serviceMonitorScrapesPrometheusOnTheServicePort() {
        var monitor = RELEASE.get("ServiceMonitor");
        assertThat(at(monitor, "apiVersion")).isEqualTo("monitoring.coreos.com/v1");
        assertThat(at(monitor, "metadata.labels.release")).isEqualTo("prometheus");
        assertThat(at(monitor, "spec.endpoints[0].port")).isEqualTo("http");
        assertThat(at(monitor, "spec.endpoints[0].path")).isEqualTo("/actuator/prometheus");
        assertThat(Manifests.map(at(RELEASE.get("Service"), "metadata.labels")))
                .containsAllEntriesOf(Manifests.map(at(monitor, "spec.selector.matchLabels")));
    }

    @Test
    void networkPolicyAdmitsTheListedNamespacesOnTheServicePort() {
        var policy = RELEASE.get("NetworkPolicy");
        assertThat(at(policy, "spec.policyTypes")).isEqualTo(List.of("Ingress"));
        assertThat(at(policy, "spec.ingress[0].ports")).isEqualTo(List.of(Map.of("port", "http", "protocol", "TCP")));
        assertThat(at(policy, "spec.ingress[0].from[0].namespaceSelector.matchLabels"))
                .isEqualTo(Map.of("kubernetes.io/metadata.name", "apps"));
        assertThat(Manifests.list(at(policy, "spec.ingress[0].from"))).hasSize(2);
    }

    @Test
    void sessionAffinityByClientIp() {
        assertThat(at(RELEASE.get("Service"), "spec.sessionAffinity")).isEqualTo("ClientIP");
        assertThat(at(RELEASE.get("Service"), "spec.sessionAffinityConfig.clientIP.timeoutSeconds")).isEqualTo(10800);
    }

    @Test
    void apiKeysComeFromTheExistingSecret() {
        assertThat(RELEASE.find("Secret")).isEmpty();
        assertThat(at(RELEASE.container(), "env[name=INNERQ_API_KEYS].valueFrom.secretKeyRef"))
                .isEqualTo(Map.of("name", "innerq-api-keys", "key", "api-keys"));
    }

    @Test
    void modelIsDownloadedOnceIntoASharedClaim() {
        var claim = RELEASE.get("PersistentVolumeClaim");
        assertThat(at(claim, "spec.accessModes")).isEqualTo(List.of("ReadWriteMany"));
        assertThat(at(claim, "spec.resources.requests.storage")).isEqualTo("10Gi");
        assertThat(at(RELEASE.podSpec(), "volumes[name=models].persistentVolumeClaim.claimName"))
                .isEqualTo(at(claim, "metadata.name"));
        assertThat(at(RELEASE.podSpec(), "initContainers[name=download-model].volumeMounts[name=models].mountPath"))
                .isEqualTo("/models");
        assertThat(at(RELEASE.container(), "volumeMounts[name=models].readOnly")).isEqualTo(true);
        assertThat(RELEASE.applicationProperties())
                .containsEntry("spring.ai.innerq.model", "/models/llama-3.2-1b-instruct-q8_0.gguf");
    }
}
