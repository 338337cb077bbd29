package io.innerq.cli;

import io.innerq.serving.Backend;
import io.innerq.serving.BackendKind;
import io.innerq.serving.EngineSettings;
import io.innerq.serving.ModelResolver;
import io.innerq.serving.ModelSource;
import io.innerq.cache.KvMode;
import io.innerq.chat.ChatMessage;
import io.innerq.chat.ChatTemplate;
import io.innerq.engine.GenerationRequest;
import io.innerq.engine.GenerationResult;
import io.innerq.engine.Generator;
import io.innerq.model.LlamaModel;
import io.innerq.model.WeightCheck;
import io.innerq.sampling.SamplingParams;

import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * {@code innerq generate}: prints the prompt, then the generated text as it comes; with {@code --chat} the prompt
 * is a user message rendered with the model's chat template, and only the reply is printed. Without {@code --max-tokens} it
 * stops after 64 forward steps from BOS, prompt included, as llama2.c's {@code -n 64} does.
 */
final class GenerateCommand {

    static final int DEFAULT_STEPS = 64;
    static final int DEFAULT_CHAT_TOKENS = 512;

    private GenerateCommand() {
    }

    static int run(List<String> args, PrintStream out, PrintStream err) throws IOException {
        var cli = CliArguments.parse("generate", args,
                Set.of("model", "prompt", "max-tokens", "temperature", "top-k", "top-p", "min-p", "repeat-penalty",
                        "seed", "stop", "threads", "backend", "kv", "system"),
                Set.of("chat", "check-weights"));
        String prompt = cli.require("prompt");
        long seed = cli.longValue("seed").orElse(System.nanoTime());
        SamplingParams defaults = SamplingParams.defaults(seed);
        SamplingParams sampling;
        try {
            sampling = new SamplingParams(
                    cli.number("temperature", ">= 0 (0: greedy decoding)", t -> t >= 0).orElse(defaults.temperature()),
                    cli.integer("top-k", 0, "0: off").orElse(defaults.topK()),
                    cli.number("top-p", "in (0, 1]", p -> p > 0 && p <= 1).orElse(defaults.topP()),
                    cli.number("min-p", "in [0, 1)", p -> p >= 0 && p < 1).orElse(defaults.minP()),
                    cli.number("repeat-penalty", "> 0 (1: off)", r -> r > 0).orElse(defaults.repetitionPenalty()),
                    defaults.repetitionWindow(),
                    seed);
        } catch (IllegalArgumentException e) {
            throw new CliArguments.UsageException(e.getMessage()); // names the option: "top-p must be in (0, 1]"
        }
        KvMode mode = cli.kvModes("kv", "fp32").getFirst();
        if (cli.get("kv").filter(m -> m.contains(",") || m.equals("all")).isPresent()) {
            throw new CliArguments.UsageException("--kv takes one KV cache mode for generate");
        }
        int threads = cli.integer("threads", 0, EngineSettings.MAX_THREADS, "0: one per core").orElse(0);
        var requestedTokens = cli.integer("max-tokens", 0, "tokens to generate");
        BackendKind kind = cli.backend(BackendKind.CPU);
        ModelSource source = ModelResolver.fromEnvironment().resolve(cli.get("model"));

        long t0 = System.nanoTime();
        try (LlamaModel model = source.load(cli.flag("check-weights") ? WeightCheck.ALL : WeightCheck.NORMS);
             Backend backend = Backend.open(kind, threads)) {
            var forward = backend.forward(model);
            err.printf("loaded %s (%s) in %d ms; backend %s%n", source.describe(), model.name(),
                    (System.nanoTime() - t0) / 1_000_000, forward.name());
            var stops = new ArrayList<String>();
            cli.get("stop").ifPresent(stops::add);
            String text = prompt;
            boolean addBos = true;
            if (cli.flag("chat")) {
                ChatTemplate template = model.chatTemplate();
                if (template instanceof ChatTemplate.Plain) {
                    err.println("note: the model has no chat template it recognizes; the prompt is used as plain text");
                }
                var messages = new ArrayList<ChatMessage>();
                cli.get("system").ifPresent(system -> messages.add(ChatMessage.system(system)));
                messages.add(ChatMessage.user(prompt));
                text = template.render(messages, true);
                addBos = !template.rendersBos();
                stops.addAll(template.stopStrings());
            }
            int promptTokens = model.tokenizer().encode(text, addBos, true).length;
            int context = model.config().contextLength();
            int maxTokens = requestedTokens.orElse(cli.flag("chat")
                    ? Math.max(0, Math.min(DEFAULT_CHAT_TOKENS, context - promptTokens))
                    : Math.max(0, Math.min(DEFAULT_STEPS, context - 1) - promptTokens + 1));
            var request = new GenerationRequest(text, maxTokens, sampling, stops, addBos, true, mode);
            var generator = new Generator(model, forward);
            if (!cli.flag("chat")) {
                out.print(prompt); // completion: the prompt, then its continuation
                out.flush();
            }
            GenerationResult result;
            try {
                result = generator.generate(request, chunk -> {
                    out.print(chunk);
                    out.flush();
                    return true;
                });
            } catch (RuntimeException e) {
                out.println(); // end the text before the error line
                out.flush();
                throw e;
            }
            out.println();
            out.flush();
            err.printf("%d prompt tokens in %.1f ms (%.1f tok/s), %d generated at %.1f tok/s, finish: %s%n",
                    result.promptTokens(), result.prefillNanos() / 1e6,
                    result.promptTokens() * 1e9 / Math.max(1, result.prefillNanos()),
                    result.completionTokens(), result.decodeTokensPerSecond(),
                    result.finishReason().name().toLowerCase());
        }
        return 0;
    }
}
