package io.innerq.cli;

import io.innerq.cache.KvMode;
import io.innerq.serving.BackendKind;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** {@code --name value} options and {@code --flag}s after a command word, checked against what the command takes. */
final class CliArguments {

    private final String command;
    private final Map<String, String> options;

    private CliArguments(String command, Map<String, String> options) {
        this.command = command;
        this.options = options;
    }

    /**
     * @param valued options that take a value
     * @param flags  options that take none
     */
    static CliArguments parse(String command, List<String> args, Set<String> valued, Set<String> flags) {
        var options = new LinkedHashMap<String, String>();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("--help") || a.equals("-h")) {
                throw new HelpRequested();
            }
            if (!a.startsWith("--")) {
                throw new UsageException("unexpected argument '%s' for '%s'".formatted(a, command));
            }
            String name = a.substring(2);
            String value = null;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            if (flags.contains(name) && value == null) {
                options.put(name, "true");
            } else if (valued.contains(name)) {
                if (value == null) {
                    if (i + 1 >= args.size()) {
                        throw new UsageException("--%s needs a value".formatted(name));
                    }
                    value = args.get(++i);
                }
                options.put(name, value);
            } else {
                throw new UsageException("'%s' does not take --%s (it takes: %s)".formatted(command, name,
                        String.join(", ", valued.stream().sorted().map(o -> "--" + o).toList())));
            }
        }
        return new CliArguments(command, options);
    }

    Optional<String> get(String name) {
        return Optional.ofNullable(options.get(name));
    }

    boolean flag(String name) {
        return options.containsKey(name);
    }

    String require(String name) {
        return get(name).orElseThrow(() -> new UsageException("'%s' needs --%s".formatted(command, name)));
    }

    /** A whole number of at least {@code min}; {@code meaning} says what the option is, for the message. */
    Optional<Integer> integer(String name, int min, String meaning) {
        return integer(name, min, Integer.MAX_VALUE, meaning);
    }

    /**
     * A whole number from {@code min} to {@code max}; anything else is refused in a message that names the option,
     * the range and {@code meaning} (what the option is, e.g. {@code "0: one per core"}).
     */
    Optional<Integer> integer(String name, int min, int max, String meaning) {
        String range = (max == Integer.MAX_VALUE ? "at least %d" : "between %d and %d").formatted(min, max)
                + (meaning.isEmpty() ? "" : " (" + meaning + ")");
        return get(name).map(v -> {
            long n;
            try {
                n = Long.parseLong(v.strip());
            } catch (NumberFormatException e) {
                throw new UsageException("--%s must be a whole number %s, got '%s'".formatted(name, range, v));
            }
            if (n < min || n > max) {
                throw new UsageException("--%s must be %s, got %s".formatted(name, n > max
                        ? "between %d and %d".formatted(min, max) + (meaning.isEmpty() ? "" : " (" + meaning + ")")
                        : range, v.strip()));
            }
            return (int) n;
        });
    }

    /** KV cache modes, {@code MODE,...} or {@code all}. */
    List<KvMode> kvModes(String name, String fallback) {
        try {
            return KvModes.parseList(get(name).orElse(fallback));
        } catch (IllegalArgumentException e) {
            throw new UsageException("--%s: %s".formatted(name, e.getMessage()));
        }
    }

    /** Any 64-bit whole number. */
    Optional<Long> longValue(String name) {
        return get(name).map(v -> {
            try {
                return Long.parseLong(v.strip());
            } catch (NumberFormatException e) {
                throw new UsageException("--%s must be a whole number from %d to %d, got '%s'"
                        .formatted(name, Long.MIN_VALUE, Long.MAX_VALUE, v));
            }
        });
    }

    /**
     * A finite number that {@code allowed} accepts; {@code range} says which, for the message (e.g.
     * {@code "in (0, 1]"}).
     */
    Optional<Float> number(String name, String range, java.util.function.DoublePredicate allowed) {
        return get(name).map(v -> {
            float f;
            try {
                f = Float.parseFloat(v.strip());
            } catch (NumberFormatException e) {
                throw new UsageException("--%s must be a number %s, got '%s'".formatted(name, range, v));
            }
            if (!Float.isFinite(f) || !allowed.test(f)) {
                throw new UsageException("--%s must be %s, got %s".formatted(name, range, v.strip()));
            }
            return f;
        });
    }

    /** {@code --backend}, parsed; {@code fallback} when absent. */
    BackendKind backend(BackendKind fallback) {
        return get("backend").map(v -> {
            try {
                return BackendKind.parse(v, "--backend");
            } catch (IllegalArgumentException e) {
                throw new UsageException(e.getMessage());
            }
        }).orElse(fallback);
    }

    /** A command line that cannot be run as given. */
    static final class UsageException extends RuntimeException {
        UsageException(String message) {
            super(message);
        }
    }

    /** {@code --help} or {@code -h} where an option may stand: the command's help is printed instead. */
    static final class HelpRequested extends RuntimeException {
        HelpRequested() {
            super(null, null, false, false);
        }
    }
}
