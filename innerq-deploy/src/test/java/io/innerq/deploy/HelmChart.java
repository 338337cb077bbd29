package io.innerq.deploy;

import com.marcnuri.helm.DryRun;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.InstallCommand;
import com.marcnuri.helm.LintResult;
import com.marcnuri.helm.TemplateCommand;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The chart in {@code helm/innerq}, rendered by the Helm library that helm-java bundles (no {@code helm} binary,
 * no cluster). {@code innerq.chart} (set by the module's pom) points at it.
 */
final class HelmChart {

    static final Path DIRECTORY = Path.of(System.getProperty("innerq.chart", "../helm/innerq")).normalize();
    static final String RELEASE = "test";

    private HelmChart() {
    }

    /** {@code helm template test helm/innerq [-f FILE]... [--set KEY=VALUE]...}. */
    static Manifests render(Map<String, Object> set, String... valuesFiles) {
        TemplateCommand template = new Helm(DIRECTORY).template().withName(RELEASE).withNamespace("innerq");
        for (String file : valuesFiles) {
            Path path = DIRECTORY.resolve(file);
            if (!Files.isRegularFile(path)) {
                throw new IllegalArgumentException("no values file " + path.toAbsolutePath());
            }
            template = template.withValuesFile(path);
        }
        for (var e : set.entrySet()) {
            template = template.set(e.getKey(), e.getValue());
        }
        return Manifests.parse(template.call());
    }

    static Manifests render(String... valuesFiles) {
        return render(Map.of(), valuesFiles);
    }

    /**
     * The message Helm fails with, or an {@link AssertionError} when it renders.
     */
    static String renderError(Map<String, Object> set) {
        try {
            render(set);
        } catch (IllegalStateException e) {
            return e.getMessage();
        }
        throw new AssertionError("helm template accepted " + set);
    }

    /** The NOTES.txt a user sees after {@code helm install} (a client-only dry run). */
    static String notes(Map<String, Object> set) {
        InstallCommand install = new Helm(DIRECTORY).install().withName(RELEASE).withNamespace("innerq")
                .clientOnly().withDryRunOption(DryRun.CLIENT);
        for (var e : set.entrySet()) {
            install = install.set(e.getKey(), e.getValue());
        }
        return install.call().getOutput();
    }

    /** {@code helm lint --strict DIRECTORY}. */
    static LintResult lint(Path directory) {
        return new Helm(directory).lint().strict().call();
    }
}
