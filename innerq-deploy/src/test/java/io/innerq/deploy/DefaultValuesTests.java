package io.innerq.deploy;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static io.innerq.deploy.Manifests.at;
import static org.assertj.core.api.Assertions.assertThat;

/** The chart rendered with its default values: CPU, a model claim, no keys, no optional objects. */
class DefaultValuesTests {

    private static final Manifests RELEASE = HelmChart.render();

    @Test
    void rendersOnlyTheConfigMapServiceAndDeployment() {
        assertThat(RELEASE.kinds()).containsExactlyInAnyOrder("ConfigMap", "Service", "Deployment");
    }

    @Test
    void probesUseTheActuatorHealthGroupsOnTheServicePort() {
        var c = RELEASE.container();
        assertThat(at(c, "ports[name=http].containerPort")).isEqualTo(8080);
        assertThat(at(c, "startupProbe.httpGet.path")).isEqualTo("/actuator/health/liveness");
        assertThat(at(c, "livenessProbe.httpGet.path")).isEqualTo("/actuator/health/liveness");
        assertThat(at(c, "readinessProbe.httpGet.path")).isEqualTo("/actuator/health/readiness");
        for (String probe : List.of("startupProbe", "livenessProbe", "readinessProbe")) {
            assertThat(at(c, probe + ".httpGet.port")).as(probe).isEqualTo("http");
        }
        assertThat(RELEASE.applicationProperties()).containsEntry("server.port", "8080")
                .containsEntry("server.address", "0.0.0.0");
    }

    @Test
    void startupProbeWaitsMinutesForTheModelToLoad() {
        var c = RELEASE.container();
        int startup = (int) at(c, "startupProbe.periodSeconds") * (int) at(c, "startupProbe.failureThreshold");
        int liveness = (int) at(c, "livenessProbe.periodSeconds") * (int) at(c, "livenessProbe.failureThreshold");
        assertThat(startup).isGreaterThanOrEqualTo(600).isGreaterThan(10 * liveness);
    }

    @Test
    void podRunsRestricted() {
        var pod = RELEASE.podSpec();
        assertThat(at(pod, "securityContext.runAsNonRoot")).isEqualTo(true);
        assertThat((int) at(pod, "securityContext.runAsUser")).isPositive();
        assertThat(at(pod, "securityContext.seccompProfile.type")).isEqualTo("RuntimeDefault");
        assertThat(pod.get("automountServiceAccountToken")).isEqualTo(false);
        assertThat(pod.get("enableServiceLinks")).as("no <SERVICE>_PORT variables for Spring to bind").isEqualTo(false);
        var c = RELEASE.container();
        assertThat(at(c, "securityContext.readOnlyRootFilesystem")).isEqualTo(true);
        assertThat(at(c, "securityContext.allowPrivilegeEscalation")).isEqualTo(false);
        assertThat(at(c, "securityContext.capabilities.drop")).isEqualTo(List.of("ALL"));
    }

    @Test
    void tmpIsAWritableEmptyDir() {
        var mount = Manifests.map(at(RELEASE.container(), "volumeMounts[mountPath=/tmp]"));
        assertThat(mount.get("readOnly")).isNotEqualTo(true);
        assertThat(at(RELEASE.podSpec(), "volumes[name=" + mount.get("name") + "].emptyDir")).isNotNull();
    }

    @Test
    void configMapIsMountedAndNamedAsSpringsAdditionalLocation() {
        var mount = Manifests.map(at(RELEASE.container(), "volumeMounts[name=config]"));
        assertThat(mount.get("readOnly")).isEqualTo(true);
        assertThat(at(RELEASE.container(), "env[name=SPRING_CONFIG_ADDITIONAL_LOCATION].value"))
                .isEqualTo("file:" + mount.get("mountPath") + "/");
        String configMap = (String) at(RELEASE.get("ConfigMap"), "metadata.name");
        assertThat(at(RELEASE.podSpec(), "volumes[name=config].configMap.name")).isEqualTo(configMap);
    }

    @Test
    void configMapHoldsTheEngineProperties() {
        assertThat(RELEASE.applicationProperties())
                .containsEntry("spring.ai.innerq.backend", "auto")
                .containsEntry("spring.ai.innerq.kv.mode", "innerq-small")
                .containsEntry("spring.ai.innerq.kv.budget", "1GB")
                .containsEntry("spring.ai.innerq.threads", "0")
                .containsEntry("spring.ai.innerq.concurrency", "1")
                .containsEntry("spring.ai.innerq.queue-timeout", "30s")
                .containsEntry("spring.ai.innerq.generation-timeout", "10m")
                .containsEntry("innerq.max-request-size", "1MB")
                .containsEntry("spring.lifecycle.timeout-per-shutdown-phase", "50s")
                .doesNotContainKeys("spring.ai.innerq.model", "innerq.require-api-keys", "innerq.api-keys");
    }

    @Test
    void modelClaimIsMountedReadOnlyAsTheModelPath() {
        var pod = RELEASE.podSpec();
        assertThat(at(pod, "volumes[name=models].persistentVolumeClaim"))
                .isEqualTo(Map.of("claimName", "innerq-models", "readOnly", true));
        assertThat(at(RELEASE.container(), "volumeMounts[name=models]"))
                .isEqualTo(Map.of("name", "models", "mountPath", "/models", "readOnly", true));
        assertThat(at(RELEASE.container(), "env[name=INNERQ_MODEL_PATH].value")).isEqualTo("/models");
        assertThat(pod).doesNotContainKey("initContainers");
    }

    @Test
    void cpuPodAsksForNoGpuAndNoKeys() {
        assertThat(at(RELEASE.container(), "resources.requests")).isEqualTo(Map.of("cpu", "2", "memory", "4Gi"));
        assertThat(RELEASE.podSpec()).doesNotContainKeys("runtimeClassName", "tolerations", "nodeSelector");
        assertThat(RELEASE.env("NVIDIA_DRIVER_CAPABILITIES")).isEmpty();
        assertThat(RELEASE.env("INNERQ_API_KEYS")).isEmpty();
    }

    @Test
    void serviceHasNoSessionAffinity() {
        var service = RELEASE.get("Service");
        assertThat(at(service, "spec.sessionAffinity")).isEqualTo("None");
        assertThat(at(service, "spec.ports[name=http].targetPort")).isEqualTo("http");
        assertThat(at(service, "spec.selector")).isEqualTo(at(RELEASE.get("Deployment"), "spec.selector.matchLabels"));
        assertThat(Manifests.map(at(RELEASE.get("Deployment"), "spec.template.metadata.labels")))
                .containsAllEntriesOf(Manifests.map(at(service, "spec.selector")));
    }
}
