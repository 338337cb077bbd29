package io.innerq.deploy;

import org.yaml.snakeyaml.Yaml;

import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The objects of one rendered release, as parsed YAML (maps, lists, strings, numbers, booleans). */
record Manifests(List<Map<String, Object>> objects) {

    private static final Pattern STEP = Pattern.compile("([^.\\[\\]]+)|\\[(\\d+)]|\\[(\\w+)=([^]]+)]");

    @SuppressWarnings("unchecked")
    static Manifests parse(String yaml) {
        var objects = new ArrayList<Map<String, Object>>();
        for (Object doc : new Yaml().loadAll(yaml)) {
            if (doc != null) {
                objects.add((Map<String, Object>) doc);
            }
        }
        return new Manifests(List.copyOf(objects));
    }

    List<String> kinds() {
        return objects.stream().map(o -> (String) o.get("kind")).toList();
    }

    Optional<Map<String, Object>> find(String kind) {
        var found = objects.stream().filter(o -> kind.equals(o.get("kind"))).toList();
        if (found.size() > 1) {
            throw new AssertionError("more than one " + kind + ": " + found);
        }
        return found.stream().findFirst();
    }

    Map<String, Object> get(String kind) {
        return find(kind).orElseThrow(() -> new AssertionError("no " + kind + " in " + kinds()));
    }

    /** The service's container of the Deployment. */
    Map<String, Object> container() {
        return map(at(get("Deployment"), "spec.template.spec.containers[name=innerq]"));
    }

    /** The pod spec of the Deployment. */
    Map<String, Object> podSpec() {
        return map(at(get("Deployment"), "spec.template.spec"));
    }

    /** The container's environment variable {@code name}: its {@code name} and {@code value} or {@code valueFrom}. */
    Optional<Map<String, Object>> env(String name) {
        Object env = container().get("env");
        return env == null ? Optional.empty() : list(env).stream().map(Manifests::map)
                .filter(e -> name.equals(e.get("name"))).findFirst();
    }

    /** The application.properties of the ConfigMap. */
    Properties applicationProperties() {
        var properties = new Properties();
        try {
            String text = (String) map(get("ConfigMap").get("data")).get("application.properties");
            properties.load(new StringReader(text));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return properties;
    }

    /**
     * The value at {@code path} below {@code root}: keys separated by dots, list items by index ({@code [0]}) or by
     * a field ({@code [name=http]}); an {@link AssertionError} names the first step that is missing.
     */
    static Object at(Object root, String path) {
        Object current = root;
        var walked = new StringBuilder();
        Matcher m = STEP.matcher(path);
        while (m.find()) {
            String step = m.group();
            walked.append(m.group(1) != null && !walked.isEmpty() ? "." : "").append(step);
            if (m.group(1) != null) {
                if (!(current instanceof Map<?, ?> map) || !map.containsKey(step)) {
                    throw new AssertionError("no " + walked + " in " + root);
                }
                current = map.get(step);
            } else if (m.group(2) != null) {
                int i = Integer.parseInt(m.group(2));
                if (!(current instanceof List<?> l) || i >= l.size()) {
                    throw new AssertionError("no " + walked + " in " + root);
                }
                current = l.get(i);
            } else {
                String field = m.group(3);
                String value = m.group(4);
                current = list(current).stream()
                        .filter(item -> item instanceof Map<?, ?> map
                                && Objects.equals(String.valueOf(map.get(field)), value))
                        .findFirst()
                        .orElseThrow(() -> new AssertionError("no " + walked + " in " + root));
            }
        }
        return current;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o) {
        if (!(o instanceof Map<?, ?>)) {
            throw new AssertionError("not a map: " + o);
        }
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    static List<Object> list(Object o) {
        if (!(o instanceof List<?>)) {
            throw new AssertionError("not a list: " + o);
        }
        return (List<Object>) o;
    }
}
