package io.innerq.cli;

import io.innerq.model.LlamaConfig;
import io.innerq.model.synthetic.SyntheticModel;
import io.innerq.model.synthetic.SyntheticShape;
import io.innerq.tensor.GgmlType;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * {@code innerq synth}: writes a model of a real shape with random weights (for benchmarks without a download):
 * {@code innerq synth --shape llama3-8b --type q4_0 --out llama3-8b-q4_0.gguf}.
 */
final class SynthCommand {

    private static final long MIB = 1 << 20;

    private SynthCommand() {
    }

    /** {@code value}, or a usage error naming {@code option} when it is refused. */
    private static <T> T usage(String option, java.util.function.Supplier<T> value) {
        try {
            return value.get();
        } catch (CliArguments.UsageException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw new CliArguments.UsageException(option + ": " + e.getMessage());
        }
    }

    static int run(List<String> args, PrintStream out, PrintStream err) {
        var cli = CliArguments.parse("synth", args, Set.of("shape", "type", "out", "seed", "context"),
                Set.of("force"));
        SyntheticShape shape = usage("--shape", () -> SyntheticShape.parse(cli.require("shape")));
        GgmlType type = usage("--type", () -> SyntheticModel.parseType(cli.get("type").orElse("q4_0")));
        long seed = cli.longValue("seed").orElse(1L);
        var context = cli.integer("context", 1, LlamaConfig.MAX_CONTEXT, "tokens");
        if (context.isPresent()) {
            SyntheticShape base = shape;
            shape = usage("--context", () -> base.withContextLength(context.get()));
        }
        Path path = Path.of(cli.require("out"));
        SyntheticShape chosen = shape;
        var model = usage("--shape and --type", () -> new SyntheticModel(chosen, type, seed));
        long size = model.fileSize();
        err.printf(Locale.ROOT, "writing %s: %s, %s, %,d parameters, seed %d, %,d bytes%n", path, shape.name(),
                type, shape.parameters(), seed, size);
        int totalMib = (int) Math.max(1, size / MIB);
        var bar = new ProgressBar(err, "MiB", totalMib);
        int[] shown = {-1};
        SyntheticModel.Written written;
        try {
            written = model.write(path, cli.flag("force"), bytes -> {
                int mib = (int) Math.min(totalMib - 1, bytes / MIB); // the whole count once, from finish()
                if (mib != shown[0]) {
                    shown[0] = mib;
                    bar.update(mib);
                }
            });
        } catch (FileAlreadyExistsException e) {
            err.println("innerq: " + path + " exists; pass --force to replace it");
            return 1;
        } catch (IOException e) {
            err.println();
            err.println("innerq: cannot write " + path + ": " + e.getMessage());
            return 1;
        }
        bar.finish();
        double seconds = written.elapsed().toNanos() / 1e9;
        out.printf(Locale.ROOT, "wrote %s: %,d bytes (%.2f GiB), %d tensors, in %.1f s (%.0f MiB/s)%n",
                written.path(), written.bytes(), written.bytes() / (double) (1L << 30), written.tensors(), seconds,
                written.bytes() / (double) MIB / Math.max(seconds, 1e-9));
        return 0;
    }
}
