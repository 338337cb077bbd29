package io.innerq.cli;

import io.innerq.serving.ModelResolver;
import io.innerq.serving.ModelSource;
import io.innerq.chat.ChatTemplate;
import io.innerq.gguf.GgufArray;
import io.innerq.gguf.GgufFile;
import io.innerq.gguf.GgufTensorInfo;
import io.innerq.model.LlamaConfig;

import java.io.IOException;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/** {@code innerq info}: what a model file holds. Reads only the header; works on models InnerQ cannot run too. */
final class InfoCommand {

    private InfoCommand() {
    }

    static int run(List<String> args, PrintStream out) throws IOException {
        var cli = CliArguments.parse("info", args, Set.of("model"), Set.of());
        ModelSource source = ModelResolver.fromEnvironment().resolve(cli.get("model"));
        try (GgufFile gguf = source.open()) {
            out.printf("file         %s (%,d bytes, GGUF v%d, %d tensors, alignment %d)%n", source.describe(), gguf.fileSize(),
                    gguf.version(), gguf.tensorInfos().size(), gguf.alignment());
            try {
                LlamaConfig c = LlamaConfig.from(gguf);
                out.printf("architecture %s: dim %d, %d layers, %d heads, %d KV heads, head_dim %d, FFN %d%n",
                        c.architecture(), c.dim(), c.layers(), c.heads(), c.kvHeads(), c.headDim(), c.ffnDim());
                out.printf("             vocabulary %d, context %d, RoPE base %.1f over %d dims, scaling %s, rms eps %g%n",
                        c.vocabularySize(), c.contextLength(), c.ropeFreqBase(), c.ropeDimensions(), c.ropeScaling(),
                        c.rmsNormEps());
            } catch (RuntimeException e) {
                out.println("architecture not runnable: " + e.getMessage());
            }
            out.printf("chat format  %s%n", gguf.string("tokenizer.chat_template")
                    .map(t -> ChatTemplate.recognize(t).map(c -> c.getClass().getSimpleName())
                            .orElse("unrecognized template (plain completion)"))
                    .orElse("none (plain completion)"));
            out.println();
            out.println("metadata");
            for (Map.Entry<String, Object> e : gguf.metadata().entrySet()) {
                out.printf("  %-44s %s%n", e.getKey(), format(e.getValue()));
            }
            out.println();
            out.println("tensors");
            var bytesByType = new TreeMap<String, Long>();
            for (GgufTensorInfo t : gguf.tensorInfos().values()) {
                out.printf("  %-36s %-6s %-20s %,14d bytes%n", t.name(), t.typeName(), Arrays.toString(t.shape()),
                        t.byteSize());
                bytesByType.merge(t.typeName(), Math.max(0, t.byteSize()), Long::sum);
            }
            out.println();
            bytesByType.forEach((type, bytes) -> out.printf("  %-6s %,14d bytes%n", type, bytes));
        }
        return 0;
    }

    private static String format(Object v) {
        if (v instanceof GgufArray a) {
            String head = switch (a.values()) {
                case String[] s -> Arrays.toString(Arrays.copyOf(s, Math.min(4, s.length)));
                case int[] i -> Arrays.toString(Arrays.copyOf(i, Math.min(8, i.length)));
                case float[] f -> Arrays.toString(Arrays.copyOf(f, Math.min(8, f.length)));
                default -> "";
            };
            return "[%d x %s] %s%s".formatted(a.length(), a.elementType(), head, a.length() > 8 ? " ..." : "");
        }
        if (v instanceof String s) {
            String oneLine = s.replace("\n", "\\n");
            return oneLine.length() > 100 ? '"' + oneLine.substring(0, 100) + "\" ... (" + s.length() + " chars)"
                    : '"' + oneLine + '"';
        }
        return String.valueOf(v);
    }
}
