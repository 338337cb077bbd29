package io.innerq.cli;

import io.innerq.serving.ModelResolver;
import io.innerq.serving.ModelSource;
import io.innerq.cache.CapacityPlanner;
import io.innerq.cache.KvMode;
import io.innerq.gguf.GgufFile;
import io.innerq.model.LlamaConfig;
import io.innerq.port.out.KvCachePort.CacheGeometry;

import java.io.IOException;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** {@code innerq plan}: how many tokens of KV cache fit in a memory budget, per cache mode, for a model. */
final class PlanCommand {

    private static final Pattern SIZE = Pattern.compile("(?i)\\s*([0-9]+(?:\\.[0-9]+)?)\\s*([kmgt]?)(i?)b?\\s*");

    private PlanCommand() {
    }

    static int run(List<String> args, PrintStream out) throws IOException {
        var cli = CliArguments.parse("plan", args, Set.of("model", "budget", "kv"), Set.of());
        long budget = parseBytes("budget", cli.require("budget"));
        ModelSource source = ModelResolver.fromEnvironment().resolve(cli.get("model"));
        List<KvMode> modes = cli.kvModes("kv", "all");
        try (GgufFile gguf = source.open()) {
            LlamaConfig c = LlamaConfig.from(gguf);
            var geometry = new CacheGeometry(c.layers(), c.heads(), c.kvHeads(), c.headDim());
            int context = c.contextLength();
            out.printf(Locale.ROOT, "%s: %d layers x %d KV heads x head_dim %d, context %d; budget %,d bytes%n%n",
                    source.fileName(), c.layers(), c.kvHeads(), c.headDim(), context, budget);
            out.printf("| mode | bits/elt (quantized part) | bits/elt at %d tokens | bytes at %d tokens | tokens that fit |%n",
                    context, context);
            out.println("|---|---:|---:|---:|---:|");
            for (KvMode m : modes) {
                var plan = new CapacityPlanner(geometry, m);
                out.printf(Locale.ROOT, "| %s | %.2f | %.2f | %,d | %,d |%n", m.name(), m.bitsPerElement(c.headDim()),
                        plan.bitsPerElement(context), plan.maxBytesInUse(context), plan.tokensThatFit(budget));
            }
        }
        return 0;
    }

    /**
     * {@code 512MiB}, {@code 2g}, {@code 1.5GB}, {@code 1048576}: binary units with or without the i; from 1 byte to
     * {@link Long#MAX_VALUE} bytes (8 EiB), fractions of a byte dropped. {@code option} names the option in errors.
     */
    static long parseBytes(String option, String text) {
        Matcher m = SIZE.matcher(text);
        if (!m.matches()) {
            throw new CliArguments.UsageException(("--%s: '%s' is not a size: write e.g. 512MiB, 2GiB or 1073741824"
                    + " (1 byte to 8 EiB)").formatted(option, text));
        }
        int power = switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "k" -> 1;
            case "m" -> 2;
            case "g" -> 3;
            case "t" -> 4;
            default -> 0;
        };
        BigInteger bytes = new BigDecimal(m.group(1)).multiply(BigDecimal.valueOf(1024).pow(power)).toBigInteger();
        if (bytes.signum() <= 0 || bytes.compareTo(BigInteger.valueOf(Long.MAX_VALUE)) > 0) {
            throw new CliArguments.UsageException("--%s must be between 1 byte and %,d bytes (8 EiB), got '%s'"
                    .formatted(option, Long.MAX_VALUE, text));
        }
        return bytes.longValueExact();
    }
}
