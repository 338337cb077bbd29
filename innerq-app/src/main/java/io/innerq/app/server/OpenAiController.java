package io.innerq.app.server;

import io.innerq.app.ai.InnerqChatModel;
import io.innerq.app.ai.InnerqChatOptions;
import io.innerq.app.serving.GenerationListener;
import io.innerq.app.serving.GenerationOutcome;
import io.innerq.app.serving.InnerqEngine;
import io.innerq.app.serving.PreparedGeneration;
import io.innerq.chat.ChatMessage;
import io.innerq.engine.GenerationRequest;
import io.innerq.engine.GenerationResult;
import io.innerq.app.server.OpenAiApi.ChatChoice;
import io.innerq.app.server.OpenAiApi.ChatChunk;
import io.innerq.app.server.OpenAiApi.ChatCompletion;
import io.innerq.app.server.OpenAiApi.ChatCompletionRequest;
import io.innerq.app.server.OpenAiApi.ChunkChoice;
import io.innerq.app.server.OpenAiApi.Completion;
import io.innerq.app.server.OpenAiApi.CompletionChoice;
import io.innerq.app.server.OpenAiApi.CompletionRequest;
import io.innerq.app.server.OpenAiApi.Delta;
import io.innerq.app.server.OpenAiApi.ModelCard;
import io.innerq.app.server.OpenAiApi.ModelList;
import io.innerq.app.server.OpenAiApi.ResponseMessage;
import io.innerq.app.server.OpenAiApi.Usage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

/**
 * OpenAI's chat completions, completions and models endpoints over the engine. Streams are server-sent events,
 * {@code data: {chunk}} per text delta, ending with {@code data: [DONE]}; a client that disconnects stops its
 * generation at the next token, which frees its KV cache. Admission (a slot, the KV budget) happens before the
 * response starts, so a stream that cannot run is refused with a plain HTTP error.
 */
@RestController
@RequestMapping(path = "/v1", produces = MediaType.APPLICATION_JSON_VALUE)
class OpenAiController {

    private static final Logger log = LoggerFactory.getLogger(OpenAiController.class);

    private final InnerqEngine engine;
    private final InnerqChatModel chatModel;
    private final JsonMapper json;
    private final long modelCreated;

    OpenAiController(InnerqEngine engine, InnerqChatModel chatModel, JsonMapper json) {
        this.engine = engine;
        this.chatModel = chatModel;
        this.json = json;
        long created;
        try {
            created = Files.getLastModifiedTime(engine.model().path()).toInstant().getEpochSecond();
        } catch (IOException e) {
            created = Instant.now().getEpochSecond();
        }
        this.modelCreated = created;
    }

    @GetMapping("/models")
    ModelList models() {
        return new ModelList("list", List.of(card()));
    }

    @GetMapping("/models/{id}")
    ModelCard model(@PathVariable String id) {
        if (!engine.serves(id)) {
            throw unknownModel(id);
        }
        return card();
    }

    private ModelCard card() {
        return new ModelCard(engine.modelId(), "model", modelCreated, "innerq");
    }

    @PostMapping(path = "/chat/completions", consumes = MediaType.APPLICATION_JSON_VALUE,
            produces = {MediaType.APPLICATION_JSON_VALUE, MediaType.TEXT_EVENT_STREAM_VALUE})
    ResponseEntity<?> chatCompletions(@RequestBody ChatCompletionRequest body, HttpServletResponse response)
            throws IOException {
        checkModel(body.model());
        checkN(body.n());
        if (body.tools() != null && !body.tools().isEmpty()) {
            throw ApiException.unsupported("tools", "tool calling");
        }
        if (body.functions() != null && !body.functions().isEmpty()) {
            throw ApiException.unsupported("functions", "function calling");
        }
        if (Boolean.TRUE.equals(body.logprobs())) {
            throw ApiException.unsupported("logprobs", "log probabilities");
        }
        if (body.responseFormat() != null && !"text".equals(body.responseFormat().get("type"))) {
            throw ApiException.unsupported("response_format", "a response format other than text");
        }
        List<ChatMessage> messages = messages(body.messages());
        Integer maxTokens = body.maxCompletionTokens() != null ? body.maxCompletionTokens() : body.maxTokens();
        var options = options(body.model(), maxTokens, body.maxCompletionTokens() != null ? "max_completion_tokens"
                        : "max_tokens", body.temperature(), body.topP(), body.topK(), body.minP(),
                penalty(body.repeatPenalty(), body.repetitionPenalty()), body.seed(), body.stop(),
                body.frequencyPenalty(), body.presencePenalty(), body.kvCacheMode());
        GenerationRequest request = chatModel.chatRequest(messages, options);
        PreparedGeneration prepared = engine.prepare(request);
        String id = "chatcmpl-" + UUID.randomUUID();
        long created = Instant.now().getEpochSecond();
        String model = engine.modelId();
        if (Boolean.TRUE.equals(body.stream())) {
            boolean includeUsage = body.streamOptions() != null
                    && Boolean.TRUE.equals(body.streamOptions().includeUsage());
            InnerqEngine.Admission admission = engine.admit(prepared);
            sse(response, admission, sse -> {
                sse.send(new ChatChunk(id, "chat.completion.chunk", created, model,
                        List.of(new ChunkChoice(0, new Delta("assistant", ""), null, null)), null));
                GenerationOutcome outcome = engine.run(admission, sse.listener(text ->
                        new ChatChunk(id, "chat.completion.chunk", created, model,
                                List.of(new ChunkChoice(0, new Delta(null, text), null, null)), null)));
                if (outcome.cancelledByConsumer()) {
                    return;
                }
                sse.send(new ChatChunk(id, "chat.completion.chunk", created, model,
                        List.of(new ChunkChoice(0, new Delta(null, null), null, outcome.finishReason())), null));
                if (includeUsage) {
                    sse.send(new ChatChunk(id, "chat.completion.chunk", created, model, List.of(),
                            usage(outcome.result())));
                }
                sse.done();
            });
            return null; // written
        }
        GenerationOutcome outcome = engine.generate(prepared, GenerationListener.IGNORE);
        GenerationResult r = outcome.result();
        return ResponseEntity.ok(new ChatCompletion(id, "chat.completion", created, model,
                List.of(new ChatChoice(0, new ResponseMessage("assistant", r.text()), null, outcome.finishReason())),
                usage(r)));
    }

    @PostMapping(path = "/completions", consumes = MediaType.APPLICATION_JSON_VALUE,
            produces = {MediaType.APPLICATION_JSON_VALUE, MediaType.TEXT_EVENT_STREAM_VALUE})
    ResponseEntity<?> completions(@RequestBody CompletionRequest body, HttpServletResponse response)
            throws IOException {
        checkModel(body.model());
        checkN(body.n());
        if (body.bestOf() != null && body.bestOf() != 1) {
            throw ApiException.unsupported("best_of", "best_of other than 1");
        }
        if (body.suffix() != null && !body.suffix().isEmpty()) {
            throw ApiException.unsupported("suffix", "a suffix (fill in the middle)");
        }
        if (body.logprobs() != null && body.logprobs() > 0) {
            throw ApiException.unsupported("logprobs", "log probabilities");
        }
        String prompt = prompt(body.prompt());
        var options = options(body.model(), body.maxTokens(), "max_tokens", body.temperature(), body.topP(),
                body.topK(), body.minP(), penalty(body.repeatPenalty(), body.repetitionPenalty()), body.seed(),
                body.stop(), body.frequencyPenalty(), body.presencePenalty(), body.kvCacheMode());
        PreparedGeneration prepared = engine.prepare(chatModel.completionRequest(prompt, options));
        String id = "cmpl-" + UUID.randomUUID();
        long created = Instant.now().getEpochSecond();
        String model = engine.modelId();
        boolean echo = Boolean.TRUE.equals(body.echo());
        if (Boolean.TRUE.equals(body.stream())) {
            boolean includeUsage = body.streamOptions() != null
                    && Boolean.TRUE.equals(body.streamOptions().includeUsage());
            InnerqEngine.Admission admission = engine.admit(prepared);
            sse(response, admission, sse -> {
                if (echo) {
                    sse.send(new Completion(id, "text_completion", created, model,
                            List.of(new CompletionChoice(prompt, 0, null, null)), null));
                }
                GenerationOutcome outcome = engine.run(admission, sse.listener(text ->
                        new Completion(id, "text_completion", created, model,
                                List.of(new CompletionChoice(text, 0, null, null)), null)));
                if (outcome.cancelledByConsumer()) {
                    return;
                }
                sse.send(new Completion(id, "text_completion", created, model,
                        List.of(new CompletionChoice("", 0, null, outcome.finishReason())), null));
                if (includeUsage) {
                    sse.send(new Completion(id, "text_completion", created, model, List.of(),
                            usage(outcome.result())));
                }
                sse.done();
            });
            return null; // written
        }
        GenerationOutcome outcome = engine.generate(prepared, GenerationListener.IGNORE);
        GenerationResult r = outcome.result();
        String text = echo ? prompt + r.text() : r.text();
        return ResponseEntity.ok(new Completion(id, "text_completion", created, model,
                List.of(new CompletionChoice(text, 0, null, outcome.finishReason())), usage(r)));
    }

    private static Usage usage(GenerationResult r) {
        return Usage.of(r.promptTokens(), r.completionTokens());
    }

    private void checkModel(String model) {
        if (model != null && !model.isBlank() && !engine.serves(model)) {
            throw unknownModel(model);
        }
    }

    private ApiException unknownModel(String model) {
        return new ApiException(HttpStatus.NOT_FOUND, "invalid_request_error",
                "The model '%s' does not exist: this server runs '%s' (GET /v1/models)".formatted(model,
                        engine.modelId()), "model", "model_not_found");
    }

    private static void checkN(Integer n) {
        if (n != null && n != 1) {
            throw ApiException.invalid("n must be 1, got %d: InnerQ returns one choice per request".formatted(n), "n");
        }
    }

    private static Double penalty(Double repeatPenalty, Double repetitionPenalty) {
        return repeatPenalty != null ? repeatPenalty : repetitionPenalty;
    }

    private InnerqChatOptions options(String model, Integer maxTokens, String maxTokensName, Double temperature,
                                      Double topP, Integer topK, Double minP, Double repetitionPenalty, Long seed,
                                      Object stop, Double frequencyPenalty, Double presencePenalty,
                                      String kvCacheMode) {
        int context = engine.model().config().contextLength();
        if (maxTokens != null && (maxTokens < 1 || maxTokens > context)) {
            throw ApiException.invalid("%s must be between 1 and %d (the model's context), got %d"
                    .formatted(maxTokensName, context, maxTokens), maxTokensName);
        }
        InnerqChatOptions options;
        try {
            options = InnerqChatOptions.builder()
                    .model(model == null || model.isBlank() ? null : model)
                    .maxTokens(maxTokens).temperature(temperature).topP(topP).topK(topK).minP(minP)
                    .repetitionPenalty(repetitionPenalty).seed(seed).stopSequences(stops(stop))
                    .frequencyPenalty(frequencyPenalty).presencePenalty(presencePenalty).kvCacheMode(kvCacheMode)
                    .build();
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid(e.getMessage(), null);
        }
        return chatModel.withDefaults(options);
    }

    private static List<String> stops(Object stop) {
        return switch (stop) {
            case null -> null;
            case String s -> List.of(s);
            case List<?> list when list.stream().allMatch(s -> s instanceof String str && !str.isEmpty()) ->
                    list.stream().map(String.class::cast).toList();
            default -> throw ApiException.invalid("stop must be a string or a list of non-empty strings", "stop");
        };
    }

    private static String prompt(Object prompt) {
        return switch (prompt) {
            case String s -> s;
            case List<?> list when list.size() == 1 && list.getFirst() instanceof String s -> s;
            case List<?> list when list.size() > 1 && list.stream().allMatch(String.class::isInstance) ->
                    throw ApiException.invalid("a batch of prompts is not supported: send one prompt per request",
                            "prompt");
            case null -> throw ApiException.invalid("prompt is required", "prompt");
            default -> throw ApiException.invalid("prompt must be a string (token arrays are not supported)",
                    "prompt");
        };
    }

    private static List<ChatMessage> messages(List<OpenAiApi.Message> messages) {
        if (messages == null || messages.isEmpty()) {
            throw ApiException.invalid("messages must hold at least one message", "messages");
        }
        var out = new ArrayList<ChatMessage>();
        for (int i = 0; i < messages.size(); i++) {
            OpenAiApi.Message m = messages.get(i);
            String param = "messages[%d]".formatted(i);
            if (m == null || m.role() == null) {
                throw ApiException.invalid(param + " needs a role", param + ".role");
            }
            String content = content(m.content(), param);
            out.add(switch (m.role().toLowerCase(Locale.ROOT)) {
                case "system", "developer" -> ChatMessage.system(content);
                case "user" -> ChatMessage.user(content);
                case "assistant" -> ChatMessage.assistant(content);
                default -> throw ApiException.invalid(("%s has role '%s': InnerQ takes system, developer, user and "
                        + "assistant messages").formatted(param, m.role()), param + ".role");
            });
        }
        return out;
    }

    private static String content(Object content, String param) {
        return switch (content) {
            case null -> "";
            case String s -> s;
            case List<?> parts -> {
                var text = new StringBuilder();
                for (Object part : parts) {
                    if (part instanceof Map<?, ?> map && "text".equals(map.get("type"))
                            && map.get("text") instanceof String s) {
                        text.append(s);
                    } else {
                        throw ApiException.invalid(param + ".content: only text parts are supported",
                                param + ".content");
                    }
                }
                yield text.toString();
            }
            default -> throw ApiException.invalid(param + ".content must be a string or a list of text parts",
                    param + ".content");
        };
    }

    /** What a stream writes, on the request's thread, which is also the generation's. */
    @FunctionalInterface
    private interface StreamBody {
        void write(Sse sse) throws IOException;
    }

    /**
     * Answers with a server-sent event stream written by {@code body}; the admission is given back however the
     * stream ends. A failure after the stream began is sent as an error event, then {@code [DONE]}.
     */
    private void sse(HttpServletResponse response, InnerqEngine.Admission admission, StreamBody body)
            throws IOException {
        try (admission) {
            response.setStatus(HttpStatus.OK.value());
            response.setContentType(MediaType.TEXT_EVENT_STREAM_VALUE);
            response.setCharacterEncoding(StandardCharsets.UTF_8.name());
            response.setHeader("Cache-Control", "no-cache");
            response.setHeader("X-Accel-Buffering", "no");
            var sse = new Sse(response.getOutputStream());
            try {
                body.write(sse);
            } catch (RuntimeException e) {
                log.warn("a streamed generation failed", e);
                sse.send(OpenAiErrors.body(e));
                sse.done();
            }
        } catch (IOException e) {
            log.debug("stream closed by the client: {}", e.toString());
        }
    }

    /** Server-sent events in OpenAI's form: {@code data: <json>} and a blank line. */
    private final class Sse {
        private final OutputStream out;

        Sse(OutputStream out) {
            this.out = out;
        }

        void send(Object chunk) throws IOException {
            write("data: " + json.writeValueAsString(chunk) + "\n\n");
        }

        void done() throws IOException {
            write("data: [DONE]\n\n");
        }

        private void write(String event) throws IOException {
            out.write(event.getBytes(StandardCharsets.UTF_8));
            out.flush();
        }

        /** Sends each text delta as the chunk {@code toChunk} makes; a failed write (the client left) cancels. */
        GenerationListener listener(java.util.function.Function<String, Object> toChunk) {
            return (text, tokens) -> {
                try {
                    send(toChunk.apply(text));
                    return true;
                } catch (IOException e) {
                    return false;
                }
            };
        }
    }
}
