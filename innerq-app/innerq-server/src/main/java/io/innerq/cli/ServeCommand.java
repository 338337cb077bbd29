package io.innerq.cli;

import io.innerq.autoconfigure.InnerqChatProperties;
import io.innerq.autoconfigure.InnerqEngineProperties;
import io.innerq.server.InnerqServer;
import io.innerq.server.InnerqServerProperties;
import io.innerq.serving.EngineSettings;
import io.innerq.serving.ModelResolver;
import io.innerq.serving.ModelSource;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.context.ApplicationEvent;
import org.springframework.context.ApplicationListener;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.event.ContextClosedEvent;
import org.springframework.core.env.SimpleCommandLinePropertySource;
import org.springframework.core.env.StandardEnvironment;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URL;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;

/**
 * {@code innerq serve}: starts the Spring Boot service ({@link InnerqServer}) and returns when it stops. Arguments
 * are its short options ({@code --model}, {@code --port}, {@code --host}, {@code --kv}, {@code --kv-budget},
 * {@code --backend}, {@code --threads}, {@code --concurrency}) and Spring properties as {@code --name=value}.
 *
 * <p>Before anything loads, the command line is checked: an unknown option, an InnerQ property that does not exist
 * ({@code spring.ai.innerq.*}, {@code innerq.*}: their metadata lists them), a value that does not convert, a port
 * outside 0..65535 or an unknown host is a usage error (exit code 2) that names it; a port already in use and a model
 * that is not found end the command (exit code 1) with one line, before the model loads.
 */
final class ServeCommand {

    /** Short options and the properties they set. */
    static final Map<String, String> SHORT = Map.of(
            "--model", "spring.ai.innerq.model", "--port", "server.port", "--host", "server.address",
            "--kv", "spring.ai.innerq.kv.mode", "--kv-budget", "spring.ai.innerq.kv.budget",
            "--backend", "spring.ai.innerq.backend", "--threads", "spring.ai.innerq.threads",
            "--concurrency", "spring.ai.innerq.concurrency");

    /** Short options that take no value, and the property each sets to true. */
    static final Map<String, String> FLAGS = Map.of("--check-weights", "spring.ai.innerq.check-weights");

    /** The ranges of the short options that take a whole number. */
    private static final Map<String, int[]> RANGES = Map.of("--port", new int[] {0, 65535},
            "--threads", new int[] {0, EngineSettings.MAX_THREADS},
            "--concurrency", new int[] {1, EngineSettings.MAX_THREADS});

    /** Property prefixes of InnerQ's own: every name under them must be one the metadata lists. */
    private static final List<String> OWN_PREFIXES = List.of(InnerqEngineProperties.PREFIX + ".", "innerq.");

    /** How a serve user names the model, for the not-found message. */
    private static final String MODEL_REMEDY = "Pass --model with the path of a .gguf file "
            + "(spring.ai.innerq.model), or download one with 'innerq pull NAME' ('innerq pull --list' names them)";

    private ServeCommand() {
    }

    static int run(List<String> args, PrintStream err) {
        return run(args, err, context -> { });
    }

    /** @param started called with the running context, before this waits for it to close */
    static int run(List<String> args, PrintStream err, Consumer<ConfigurableApplicationContext> started) {
        String[] spring = springArguments(args);
        Checked checked = check(spring);
        Optional<String> busy = portInUse(checked);
        if (busy.isPresent()) {
            err.println("innerq: " + busy.get());
            return 1;
        }
        ConfigurableApplicationContext context;
        try {
            var application = new SpringApplication(InnerqServer.class);
            // the one line below says what is wrong; Spring's report of the same would repeat it
            application.setDefaultProperties(Map.of(
                    "logging.level.org.springframework.boot.diagnostics.LoggingFailureAnalysisReporter", "off"));
            context = application.run(withModel(spring, checked.model()));
        } catch (RuntimeException e) {
            err.println("innerq: the service did not start: " + reason(e));
            return 1;
        }
        var closed = new CountDownLatch(1);
        context.addApplicationListener((ApplicationListener<ApplicationEvent>) event -> {
            if (event instanceof ContextClosedEvent) {
                closed.countDown();
            }
        });
        if (!context.isActive()) {
            return 0;
        }
        started.accept(context);
        try {
            closed.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            context.close();
        }
        return 0;
    }

    /**
     * The arguments as Spring reads them: short options expanded to properties, every other argument a
     * {@code --name=value} property.
     */
    static String[] springArguments(List<String> args) {
        var out = new ArrayList<String>();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("--help") || a.equals("-h")) {
                throw new CliArguments.HelpRequested();
            }
            int eq = a.indexOf('=');
            String name = eq < 0 ? a : a.substring(0, eq);
            String property = SHORT.get(name);
            if (FLAGS.containsKey(name)) {
                out.add("--" + FLAGS.get(name) + (eq < 0 ? "=true" : a.substring(eq)));
            } else if (property != null) {
                String value;
                if (eq >= 0) {
                    value = a.substring(eq + 1);
                } else if (i + 1 < args.size()) {
                    value = args.get(++i);
                } else {
                    throw new CliArguments.UsageException(name + " needs a value");
                }
                checkRange(name, value);
                out.add("--" + property + "=" + value);
            } else if (a.startsWith("--") && eq > 2) {
                out.add(a);
            } else {
                var options = new TreeSet<>(SHORT.keySet());
                options.addAll(FLAGS.keySet());
                throw new CliArguments.UsageException(("unknown option '%s': serve takes %s, and Spring properties "
                        + "as --name=value").formatted(a, String.join(", ", options)));
            }
        }
        return out.toArray(String[]::new);
    }

    /** A short option's whole number within its range, or a usage error that names both. */
    private static void checkRange(String option, String value) {
        int[] range = RANGES.get(option);
        if (range == null) {
            return;
        }
        long n;
        try {
            n = Long.parseLong(value.strip());
        } catch (NumberFormatException e) {
            n = Long.MIN_VALUE;
        }
        if (n < range[0] || n > range[1]) {
            throw new CliArguments.UsageException("%s must be between %d and %d (a whole number), got '%s'"
                    .formatted(option, range[0], range[1], value));
        }
    }

    /** What the checks found: the model to load and where to listen. */
    record Checked(ModelSource model, String host, int port) {
    }

    /**
     * Checks the properties the command line (and the environment) set: InnerQ's names exist, every InnerQ value
     * converts and is allowed, the port and the host are valid; then finds the model.
     */
    static Checked check(String[] spring) {
        Set<String> known = knownProperties();
        Set<ConfigurationPropertyName> names = new HashSet<>();
        known.forEach(k -> names.add(ConfigurationPropertyName.of(k)));
        for (String arg : spring) {
            String name = arg.substring(2, arg.indexOf('='));
            ConfigurationPropertyName property = propertyName(name);
            if (OWN_PREFIXES.stream().anyMatch(property.toString()::startsWith) && !names.contains(property)) {
                throw new CliArguments.UsageException("unknown property --%s%s".formatted(name,
                        suggestion(property.toString(), known)));
            }
        }
        var environment = new StandardEnvironment();
        environment.getPropertySources().addFirst(new SimpleCommandLinePropertySource(spring));
        Binder binder = Binder.get(environment);
        InnerqEngineProperties engine = bind(binder, () -> binder.bindOrCreate(InnerqEngineProperties.PREFIX,
                InnerqEngineProperties.class));
        bind(binder, () -> binder.bindOrCreate(InnerqChatProperties.PREFIX, InnerqChatProperties.class).toOptions());
        bind(binder, () -> binder.bindOrCreate("innerq", InnerqServerProperties.class));
        bind(binder, engine::toSettings);
        int port = bind(binder, () -> binder.bind("server.port", Integer.class).orElse(8080));
        if (port < 0 || port > 65535) {
            throw new CliArguments.UsageException("--port must be between 0 and 65535 (0: any free port), got "
                    + port);
        }
        String host = environment.getProperty("server.address", "127.0.0.1");
        try {
            InetAddress.getByName(host);
        } catch (UnknownHostException e) {
            throw new CliArguments.UsageException(("--host '%s' is not an address of this machine, nor a name that "
                    + "resolves: use e.g. 127.0.0.1 or 0.0.0.0").formatted(host));
        }
        ModelSource model = ModelResolver.fromEnvironment().withRemedy(MODEL_REMEDY)
                .resolve(Optional.ofNullable(engine.model()).filter(m -> !m.isBlank()));
        return new Checked(model, host, port);
    }

    private static <T> T bind(Binder binder, java.util.function.Supplier<T> binding) {
        try {
            return binding.get();
        } catch (BindException e) {
            String value = e.getProperty() == null ? "" : " " + e.getProperty().getValue();
            String option = SHORT.entrySet().stream().filter(s -> propertyName(s.getValue()).equals(e.getName()))
                    .map(Map.Entry::getKey).findFirst().orElse("--" + e.getName());
            if (RANGES.containsKey(option) && e.getProperty() != null) {
                checkRange(option, String.valueOf(e.getProperty().getValue())); // says the range
            }
            String reason = reason(e);
            if (e.getProperty() == null && reason.startsWith(e.getName() + ".")) {
                throw new CliArguments.UsageException(reason); // it names the property already
            }
            throw new CliArguments.UsageException("%s%s: %s".formatted(option, value, reason));
        } catch (IllegalArgumentException e) {
            throw new CliArguments.UsageException(e.getMessage());
        }
    }

    /** The port is free, or what to do; found before the model loads. */
    static Optional<String> portInUse(Checked checked) {
        if (checked.port() == 0) {
            return Optional.empty();
        }
        try (var socket = new ServerSocket()) {
            socket.setReuseAddress(false);
            socket.bind(new InetSocketAddress(InetAddress.getByName(checked.host()), checked.port()));
            return Optional.empty();
        } catch (IOException e) {
            return Optional.of(("port %d on %s is in use (%s): stop what listens there, or pass --port N "
                    + "(--port 0 takes any free port)").formatted(checked.port(), checked.host(), e.getMessage()));
        }
    }

    /** The arguments with the model found, so that the service loads exactly what was checked. */
    private static String[] withModel(String[] spring, ModelSource model) {
        if (!(model instanceof ModelSource.File file)) {
            return spring;
        }
        var out = new ArrayList<String>();
        var modelProperty = ConfigurationPropertyName.of(InnerqEngineProperties.PREFIX + ".model");
        for (String a : spring) {
            if (!propertyName(a.substring(2, a.indexOf('='))).equals(modelProperty)) {
                out.add(a);
            }
        }
        out.add("--" + InnerqEngineProperties.PREFIX + ".model=" + file.path().toAbsolutePath());
        return out.toArray(String[]::new);
    }

    /** A property's name as Spring compares names (case and dashes aside), without trailing indexes. */
    static ConfigurationPropertyName propertyName(String name) {
        ConfigurationPropertyName n;
        try {
            n = ConfigurationPropertyName.adapt(name, '.');
        } catch (RuntimeException e) {
            throw new CliArguments.UsageException("'--%s' is not a property name".formatted(name));
        }
        while (n.getNumberOfElements() > 1 && n.isLastElementIndexed()) {
            n = n.getParent();
        }
        return n;
    }

    /** The known name closest to {@code name} (or to it under {@code spring.ai.}, where the engine's live). */
    private static String suggestion(String name, Set<String> known) {
        String engine = "spring.ai." + name;
        return known.stream()
                .min(Comparator.comparingInt(k -> Math.min(distance(k, name), distance(k, engine))))
                .filter(k -> Math.min(distance(k, name), distance(k, engine)) <= Math.max(3, name.length() / 5))
                .map(k -> ": did you mean --" + k + "?")
                .orElse(": InnerQ's properties are " + String.join(", ", known));
    }

    /** Levenshtein distance, for suggestions. */
    private static int distance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                current[j] = Math.min(Math.min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }
            int[] t = previous;
            previous = current;
            current = t;
        }
        return previous[b.length()];
    }

    /** InnerQ's property names, from the configuration metadata of the jars on the class path. */
    static Set<String> knownProperties() {
        var names = new TreeSet<String>();
        var json = JsonMapper.builder().build();
        try {
            for (URL url : Collections.list(ServeCommand.class.getClassLoader()
                    .getResources("META-INF/spring-configuration-metadata.json"))) {
                try (InputStream in = url.openStream()) {
                    for (JsonNode p : json.readTree(in).path("properties")) {
                        String name = p.path("name").asString("");
                        if (OWN_PREFIXES.stream().anyMatch(name::startsWith)) {
                            names.add(name);
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the property metadata of the class path: " + e.getMessage(),
                    e);
        }
        if (names.isEmpty()) {
            throw new IllegalStateException("no InnerQ property metadata on the class path: rebuild the application");
        }
        return names;
    }

    /**
     * The message that says what is wrong: the first cause that is not one of Spring's wrappers (a port in use
     * excepted: its message names the port).
     */
    static String reason(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            String type = t.getClass().getName();
            if (t instanceof NumberFormatException) {
                return "not a number, or not one in the range of the property's type";
            }
            if (t instanceof IllegalArgumentException && t.getMessage() != null
                    && t.getMessage().startsWith("No enum constant ")) {
                String constant = t.getMessage().substring(t.getMessage().lastIndexOf('.') + 1);
                return "'%s' is not one of the property's values".formatted(constant);
            }
            if (!type.startsWith("org.springframework.") || type.endsWith(".PortInUseException")) {
                return t.getMessage() != null ? t.getMessage() : t.toString();
            }
        }
        return e.getMessage() != null ? e.getMessage() : e.toString();
    }
}
