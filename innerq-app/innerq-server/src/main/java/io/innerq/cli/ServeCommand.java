package io.innerq.cli;

import io.innerq.server.InnerqServer;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ApplicationEvent;
import org.springframework.context.ApplicationListener;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.event.ContextClosedEvent;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;

/**
 * {@code innerq serve}: starts the Spring Boot service ({@link InnerqServer}) and returns when it stops. Arguments
 * are Spring properties ({@code --server.port=9000}, {@code --spring.ai.innerq.kv.mode=fp16}); {@code --model},
 * {@code --port} and {@code --host} are short for {@code --spring.ai.innerq.model}, {@code --server.port} and
 * {@code --server.address}.
 */
final class ServeCommand {

    private static final Map<String, String> SHORT = Map.of(
            "--model", "--spring.ai.innerq.model", "--port", "--server.port", "--host", "--server.address");

    private ServeCommand() {
    }

    static int run(List<String> args, PrintStream err) {
        return run(args, err, context -> { });
    }

    /** @param started called with the running context, before this waits for it to close */
    static int run(List<String> args, PrintStream err, Consumer<ConfigurableApplicationContext> started) {
        ConfigurableApplicationContext context;
        try {
            context = new SpringApplication(InnerqServer.class).run(springArguments(args));
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

    /** The arguments as Spring reads them: short options expanded to properties. */
    static String[] springArguments(List<String> args) {
        var out = new ArrayList<String>();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            int eq = a.indexOf('=');
            String name = eq < 0 ? a : a.substring(0, eq);
            String property = SHORT.get(name);
            if (property == null) {
                out.add(a);
            } else if (eq >= 0) {
                out.add(property + a.substring(eq));
            } else if (i + 1 < args.size()) {
                out.add(property + "=" + args.get(++i));
            } else {
                throw new CliArguments.UsageException(name + " needs a value");
            }
        }
        return out.toArray(String[]::new);
    }

    /**
     * The message that says what is wrong: the first cause that is not one of Spring's wrappers (a port in use
     * excepted: its message names the port).
     */
    static String reason(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            String type = t.getClass().getName();
            if (!type.startsWith("org.springframework.") || type.endsWith(".PortInUseException")) {
                return t.getMessage() != null ? t.getMessage() : t.toString();
            }
        }
        return e.toString();
    }
}
