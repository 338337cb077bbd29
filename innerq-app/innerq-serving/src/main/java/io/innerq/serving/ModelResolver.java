package io.innerq.serving;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Finds a model: an explicit path; otherwise a name (or the first model) looked up in the search path:
 * {@code $INNERQ_MODEL_PATH} (colon-separated), {@code ./models}, {@code ../shared/models}, and the cache directory
 * {@code $XDG_CACHE_HOME/innerq/models} (default {@code ~/.cache/innerq/models}); and when none is found there, the
 * embedded default model ({@link ModelSource.Embedded}, also found by its name).
 */
public final class ModelResolver {

    /** How a user of the command line names a model file, for error messages. */
    public static final String CLI_REMEDY = "Pass --model with the path of a .gguf file, or download one with "
            + "'innerq pull NAME' ('innerq pull --list' names them)";

    private final List<Path> searchPath;
    private final String remedy;

    public ModelResolver(List<Path> searchPath) {
        this(searchPath, CLI_REMEDY);
    }

    /** @param remedy how the user names a model file, e.g. "Set spring.ai.innerq.model to the path of a .gguf file" */
    public ModelResolver(List<Path> searchPath, String remedy) {
        this.searchPath = List.copyOf(searchPath);
        this.remedy = remedy;
    }

    /** The same search path; errors tell the user to do {@code remedy}. */
    public ModelResolver withRemedy(String remedy) {
        return new ModelResolver(searchPath, remedy);
    }

    public static ModelResolver fromEnvironment() {
        var dirs = new ArrayList<Path>();
        String env = System.getenv("INNERQ_MODEL_PATH");
        if (env != null && !env.isBlank()) {
            for (String p : env.split(":")) {
                if (!p.isBlank()) {
                    dirs.add(Path.of(p));
                }
            }
        }
        dirs.add(Path.of("models"));
        dirs.add(Path.of("..", "shared", "models"));
        dirs.add(cacheDirectory());
        return new ModelResolver(dirs);
    }

    public static Path cacheDirectory() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("innerq").resolve("models");
    }

    public List<Path> searchPath() {
        return searchPath;
    }

    /**
     * @param requested a path, a file name or a name without {@code .gguf}; empty for the default (the first model
     *                  found, by name, in the first directory of the search path that holds one, else the embedded
     *                  model)
     */
    public ModelSource resolve(Optional<String> requested) {
        if (requested.isPresent()) {
            String r = requested.get();
            Path direct = Path.of(r);
            if (Files.isRegularFile(direct)) {
                return new ModelSource.File(direct);
            }
            // a catalog name finds the file 'innerq pull' saved for it
            List<String> candidates = ModelCatalog.find(r).map(e -> List.of(r, r + ".gguf", e.fileName()))
                    .orElse(List.of(r, r + ".gguf"));
            for (Path dir : searchPath) {
                for (String candidate : candidates) {
                    Path p = dir.resolve(candidate);
                    if (Files.isRegularFile(p)) {
                        return new ModelSource.File(p);
                    }
                }
            }
            if (r.equals(ModelSource.Embedded.NAME) || (r + ".gguf").equals(ModelSource.Embedded.NAME)) {
                return new ModelSource.Embedded();
            }
            throw new ModelNotFoundException("no model file '%s': it is not a file, nor a name found in %s. %s."
                    .formatted(r, describe(), remedy));
        }
        for (Path dir : searchPath) {
            Optional<Path> first = listModels(dir).stream().findFirst();
            if (first.isPresent()) {
                return new ModelSource.File(first.get());
            }
        }
        return new ModelSource.Embedded();
    }

    /** The .gguf files of a directory, sorted by name; empty when it does not exist. */
    public static List<Path> listModels(Path dir) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".gguf") && Files.isRegularFile(p))
                    .sorted(Comparator.comparing(p -> p.getFileName().toString()))
                    .toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    private String describe() {
        return "the search path " + searchPath.stream().map(p -> p.toAbsolutePath().normalize().toString()).toList();
    }

    /** No model file could be found; the message says what to set. */
    public static final class ModelNotFoundException extends RuntimeException {
        public ModelNotFoundException(String message) {
            super(message);
        }
    }
}
