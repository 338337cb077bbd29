package io.innerq.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Finds the shared test models: the folder named by the system property {@value #PROPERTY}, else the first
 * {@code shared/models} folder found walking up from the working directory (the project's sibling
 * {@code ../shared/models}).
 */
public final class TestModels {

    public static final String PROPERTY = "innerq.models.dir";

    private TestModels() {}

    /** The models folder, if there is one. */
    public static Optional<Path> directory() {
        String configured = System.getProperty(PROPERTY);
        if (configured != null && !configured.isBlank()) {
            Path dir = Path.of(configured).toAbsolutePath();
            return Files.isDirectory(dir) ? Optional.of(dir) : Optional.empty();
        }
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("shared").resolve("models");
            if (Files.isDirectory(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    /** A model file of the shared folder, if present. */
    public static Optional<Path> find(String fileName) {
        return directory().map(dir -> dir.resolve(fileName)).filter(Files::isRegularFile);
    }

    /** stories260K.gguf, which every checkout must have: fails with where it looked when it is missing. */
    public static Path stories260K() {
        return find("stories260K.gguf").orElseThrow(() -> new IllegalStateException(
                "stories260K.gguf not found in " + directory().map(Path::toString).orElse(
                        "any shared/models folder above " + Path.of("").toAbsolutePath())
                        + "; put the shared models at ../shared/models or set -D" + PROPERTY + "=<folder>"));
    }

    /** storybooks-18M-hd128.gguf, optional. */
    public static Optional<Path> storybooks() {
        return find("storybooks-18M-hd128.gguf");
    }
}
