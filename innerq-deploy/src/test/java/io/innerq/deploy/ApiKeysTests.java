package io.innerq.deploy;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static io.innerq.deploy.Manifests.at;
import static org.assertj.core.api.Assertions.assertThat;

/** API key hashes: a Secret made by the chart, or an existing one, bound to innerq.api-keys. */
class ApiKeysTests {

    // SHA-256 of "key-1" and "key-2".
    static final String HASH_1 = "be2974546978e3739e6d6da85c4be9f334ce32df2b9fd4b6ff1b55c0d57e9d44";
    static final String HASH_2 = "7c36b0a9dedde119c75165957c6c9c187e65df1ee5db87c4c58ad503ad88cbe3";

    @Test
    void hashesGoToASecretReadAsInnerqApiKeys() {
        var release = HelmChart.render(Map.of("apiKeys.hashes[0]", HASH_1, "apiKeys.hashes[1]", HASH_2));
        var secret = release.get("Secret");
        assertThat(at(secret, "stringData.api-keys")).isEqualTo(HASH_1 + "," + HASH_2);
        assertThat(at(release.container(), "env[name=INNERQ_API_KEYS].valueFrom.secretKeyRef"))
                .isEqualTo(Map.of("name", at(secret, "metadata.name"), "key", "api-keys"));
    }

    @Test
    void newHashesRollThePods() {
        String before = checksum(HelmChart.render(Map.of("apiKeys.hashes[0]", HASH_1)));
        String after = checksum(HelmChart.render(Map.of("apiKeys.hashes[0]", HASH_2)));
        assertThat(after).isNotEqualTo(before);
    }

    @Test
    void existingSecretIsReferencedNotMade() {
        var release = HelmChart.render(Map.of("apiKeys.existingSecret", "keys", "apiKeys.secretKey", "hashes",
                "apiKeys.hashes[0]", HASH_1));
        assertThat(release.find("Secret")).isEmpty();
        assertThat(at(release.container(), "env[name=INNERQ_API_KEYS].valueFrom.secretKeyRef"))
                .isEqualTo(Map.of("name", "keys", "key", "hashes"));
    }

    @Test
    void servingWithoutKeysIsAnExplicitChoice() {
        assertThat(HelmChart.render(Map.of("innerq.requireApiKeys", false)).applicationProperties())
                .containsEntry("innerq.require-api-keys", "false");
    }

    @Test
    void notesWarnOnlyWhenTheServiceWouldRefuseToStart() {
        assertThat(HelmChart.notes(Map.of())).contains("WARNING: no API keys");
        assertThat(HelmChart.notes(Map.of("apiKeys.hashes[0]", HASH_1))).doesNotContain("WARNING")
                .contains("Authorization: Bearer");
        assertThat(HelmChart.notes(Map.of("innerq.requireApiKeys", false))).doesNotContain("WARNING");
    }

    private static String checksum(Manifests release) {
        return (String) at(release.get("Deployment"), "spec.template.metadata.annotations.checksum/api-keys");
    }
}
