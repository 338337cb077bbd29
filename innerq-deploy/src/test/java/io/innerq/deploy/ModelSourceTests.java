package io.innerq.deploy;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static io.innerq.deploy.Manifests.at;
import static org.assertj.core.api.Assertions.assertThat;

/** Where the model comes from: an existing claim, or a checked download into an emptyDir or a claim. */
class ModelSourceTests {

    static final String SHA256 = "9f1d5c5d2b3e4f60718293a4b5c6d7e8f90112233445566778899aabbccddeef";

    static Map<String, Object> download(Map<String, Object> more) {
        var values = new java.util.HashMap<String, Object>(Map.of("model.source", "download",
                "model.download.url", "https://example.com/m.gguf", "model.download.sha256", SHA256,
                "model.download.fileName", "m.gguf"));
        values.putAll(more);
        return values;
    }

    @Test
    void claimWithASubPathAndAModelName() {
        var release = HelmChart.render(Map.of("model.claim.name", "models", "model.claim.subPath", "llama",
                "model.file", "llama-3.2-1b"));
        assertThat(at(release.podSpec(), "volumes[name=models].persistentVolumeClaim.claimName")).isEqualTo("models");
        assertThat(at(release.container(), "volumeMounts[name=models].subPath")).isEqualTo("llama");
        assertThat(release.applicationProperties()).containsEntry("spring.ai.innerq.model", "llama-3.2-1b");
    }

    @Test
    void downloadChecksTheSha256BeforeTheServiceStarts() {
        var release = HelmChart.render(download(Map.of()));
        var init = Manifests.map(at(release.podSpec(), "initContainers[name=download-model]"));
        assertThat(at(init, "env[name=MODEL_URL].value")).isEqualTo("https://example.com/m.gguf");
        assertThat(at(init, "env[name=MODEL_SHA256].value")).isEqualTo(SHA256);
        assertThat(at(init, "env[name=MODEL_FILE].value")).isEqualTo("m.gguf");
        String script = (String) Manifests.list(init.get("command")).getLast();
        assertThat(script).contains("sha256sum \"$part\"", "exit 1", "mv \"$part\" \"$file\"");
        assertThat(init.get("securityContext")).isEqualTo(release.container().get("securityContext"));
        assertThat(at(release.podSpec(), "volumes[name=models].emptyDir.sizeLimit")).isEqualTo("10Gi");
        assertThat(release.find("PersistentVolumeClaim")).isEmpty();
        assertThat(release.applicationProperties()).containsEntry("spring.ai.innerq.model", "/models/m.gguf");
    }

    @Test
    void downloadIntoAClaimMadeByTheChart() {
        var release = HelmChart.render(download(Map.of("model.download.volume", "persistentVolumeClaim",
                "model.download.storageClassName", "fast")));
        var claim = release.get("PersistentVolumeClaim");
        assertThat(at(claim, "spec.storageClassName")).isEqualTo("fast");
        assertThat(at(claim, "spec.accessModes")).isEqualTo(List.of("ReadWriteOnce"));
        assertThat(Manifests.map(at(claim, "metadata.annotations"))).containsEntry("helm.sh/resource-policy", "keep");
        assertThat(at(release.podSpec(), "volumes[name=models].persistentVolumeClaim.claimName"))
                .isEqualTo(at(claim, "metadata.name"));
    }
}
