package io.innerq.testing;

import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Finds the test models. stories260K ships in the repository ({@code models/}, the embedded default model), so
 * tests that need only it run on any checkout. The larger shared models and held-out texts come from the folder
 * named by the system property {@value #PROPERTY}, else the first {@code shared/models} folder found walking up from
 * the working directory (the project's sibling {@code ../shared/models}); a test that needs one is skipped, saying
 * why, when there is no such folder, and fails when the folder is there without the file.
 */
public final class TestModels {

    public static final String PROPERTY = "innerq.models.dir";
    public static final String STORYBOOKS = "storybooks-18M-hd128.gguf";

    private TestModels() {}

    /** The shared models folder, if there is one. */
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

    /** A file of the shared folder, if present. */
    public static Optional<Path> find(String fileName) {
        return directory().map(dir -> dir.resolve(fileName)).filter(Files::isRegularFile);
    }

    /**
     * A file of the shared folder that a test needs: the test is skipped (an assumption, with the reason) when there
     * is no shared folder beside this checkout, and fails when the folder lacks the file.
     */
    public static Path requireShared(String fileName) {
        Optional<Path> dir = directory();
        Assumptions.assumeTrue(dir.isPresent(), () -> "skipped: needs " + fileName + " from ../shared/models, which "
                + "is not beside this checkout (set -D" + PROPERTY + "=<folder> to point at one)");
        Path file = dir.get().resolve(fileName);
        if (!Files.isRegularFile(file)) {
            throw new IllegalStateException(fileName + " is missing from the shared models folder " + dir.get());
        }
        return file;
    }

    /** stories260K.gguf: the shared copy, else the repository's (the embedded default model's source). */
    public static Path stories260K() {
        Optional<Path> shared = find("stories260K.gguf");
        if (shared.isPresent()) {
            return shared.get();
        }
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("models").resolve("stories260K.gguf");
            if (Files.isRegularFile(candidate) && Files.isRegularFile(dir.resolve("pom.xml"))) {
                return candidate;
            }
        }
        throw new IllegalStateException("stories260K.gguf not found in the shared models folder nor in models/ of "
                + "any project above " + Path.of("").toAbsolutePath() + "; set -D" + PROPERTY + "=<folder>");
    }

    /** storybooks-18M-hd128.gguf, optional. */
    public static Optional<Path> storybooks() {
        return find(STORYBOOKS);
    }
}
