package io.innerq.server;

import io.innerq.cache.KvMode;
import io.innerq.chat.ChatMessage;
import io.innerq.server.OpenAiApi.ChatCompletionRequest;
import io.innerq.server.OpenAiApi.CompletionRequest;
import io.innerq.serving.GenerationOptions;
import io.innerq.serving.InnerqEngine;
import io.innerq.serving.PreparedGeneration;
import org.springframework.http.HttpStatus;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The bodies of {@code /v1/chat/completions} and {@code /v1/completions}, as Spring MVC read them, turned into
 * generations the engine has checked ({@link InnerqEngine#prepare}): every field and every limit of
 * {@link InnerqServerProperties} is checked here, once, before anything runs; unset options take the chat defaults
 * ({@code spring.ai.innerq.chat.options.*}). A request that cannot run fails with an
 * {@link ApiException} that names the field and the limit, or with what the engine's checks throw (the context, the
 * KV budget), which {@link OpenAiErrors} answers as 4xx. The model a request names is only compared with the loaded
 * model's names: nothing in a request names a file.
 */
final class OpenAiRequests {

    /** How much of a name the request sent an error message repeats. */
    private static final int ECHO_CHARS = 80;

    /** A chat request ready to run; {@code messages} and {@code options} as they were checked, for observations. */
    record Chat(PreparedGeneration prepared, List<ChatMessage> messages, GenerationOptions options, boolean stream,
                boolean includeUsage) {
    }

    /** A completion request ready to run; {@code prompt} for {@code echo}. */
    record Text(PreparedGeneration prepared, String prompt, GenerationOptions options, boolean stream,
                boolean includeUsage, boolean echo) {
    }

    private final InnerqEngine engine;
    private final GenerationOptions defaults;
    private final InnerqServerProperties limits;

    /** @param defaults the options a request's unset fields take */
    OpenAiRequests(InnerqEngine engine, GenerationOptions defaults, InnerqServerProperties limits) {
        this.engine = engine;
        this.defaults = defaults;
        this.limits = limits;
    }

    Chat chat(ChatCompletionRequest body) {
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
        boolean completionTokens = body.maxCompletionTokens() != null;
        GenerationOptions options = options(completionTokens ? body.maxCompletionTokens() : body.maxTokens(),
                completionTokens ? "max_completion_tokens" : "max_tokens", body.temperature(), body.topP(),
                body.topK(), body.minP(), penalty(body.repeatPenalty(), body.repetitionPenalty()), body.seed(),
                body.stop(), body.frequencyPenalty(), body.presencePenalty(), body.kvCacheMode());
        PreparedGeneration prepared = engine.prepareChat(messages, options);
        return new Chat(prepared, messages, options, Boolean.TRUE.equals(body.stream()),
                includeUsage(body.streamOptions()));
    }

    Text completion(CompletionRequest body) {
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
        GenerationOptions options = options(body.maxTokens(), "max_tokens", body.temperature(), body.topP(),
                body.topK(), body.minP(), penalty(body.repeatPenalty(), body.repetitionPenalty()), body.seed(),
                body.stop(), body.frequencyPenalty(), body.presencePenalty(), body.kvCacheMode());
        PreparedGeneration prepared = engine.prepareCompletion(prompt, options);
        return new Text(prepared, prompt, options, Boolean.TRUE.equals(body.stream()),
                includeUsage(body.streamOptions()), Boolean.TRUE.equals(body.echo()));
    }

    /** The 404 for a model this server does not run; the name is compared, never opened. */
    ApiException unknownModel(String model) {
        return new ApiException(HttpStatus.NOT_FOUND, "invalid_request_error",
                "The model '%s' does not exist: this server runs '%s' (GET /v1/models)".formatted(echo(model),
                        engine.modelId()), "model", "model_not_found");
    }

    /** A name from the request as an error message repeats it: at most {@value #ECHO_CHARS} characters. */
    static String echo(String sent) {
        return sent.length() <= ECHO_CHARS ? sent
                : sent.substring(0, ECHO_CHARS) + "... (%d characters)".formatted(sent.length());
    }

    private static boolean includeUsage(OpenAiApi.StreamOptions options) {
        return options != null && Boolean.TRUE.equals(options.includeUsage());
    }

    private void checkModel(String model) {
        if (model != null && !model.isBlank() && !engine.serves(model)) {
            throw unknownModel(model);
        }
    }

    private static void checkN(Integer n) {
        if (n != null && n != 1) {
            throw ApiException.invalid("n must be 1, got %d: InnerQ returns one choice per request".formatted(n), "n");
        }
    }

    private static Double penalty(Double repeatPenalty, Double repetitionPenalty) {
        return repeatPenalty != null ? repeatPenalty : repetitionPenalty;
    }

    /** The request's options, each checked once (the cache mode parsed once), laid over the defaults. */
    private GenerationOptions options(Integer maxTokens, String maxTokensName, Double temperature, Double topP,
                                      Integer topK, Double minP, Double repetitionPenalty, Long seed, Object stop,
                                      Double frequencyPenalty, Double presencePenalty, String kvCacheMode) {
        int context = engine.model().config().contextLength();
        if (maxTokens != null && (maxTokens < 1 || maxTokens > context)) {
            throw ApiException.invalid("%s must be between 1 and %d (the model's context), got %d"
                    .formatted(maxTokensName, context, maxTokens), maxTokensName);
        }
        if (frequencyPenalty != null && frequencyPenalty != 0) {
            throw ApiException.invalid("InnerQ has no frequency penalty (got %s): use repetition_penalty"
                    .formatted(frequencyPenalty), "frequency_penalty");
        }
        if (presencePenalty != null && presencePenalty != 0) {
            throw ApiException.invalid("InnerQ has no presence penalty (got %s): use repetition_penalty"
                    .formatted(presencePenalty), "presence_penalty");
        }
        KvMode mode = null;
        if (kvCacheMode != null) {
            try {
                mode = KvMode.parse(echoLimited("kv_cache_mode", kvCacheMode));
            } catch (IllegalArgumentException e) {
                throw ApiException.invalid(e.getMessage(), "kv_cache_mode");
            }
        }
        try {
            return GenerationOptions.builder().maxTokens(maxTokens).temperature(temperature).topP(topP).topK(topK)
                    .minP(minP).repetitionPenalty(repetitionPenalty).seed(seed).stop(stops(stop)).kvMode(mode)
                    .build().over(defaults);
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid(e.getMessage(), null);
        }
    }

    /** A short name field (a cache mode) whose error message repeats it: too long to be one is refused first. */
    private static String echoLimited(String param, String value) {
        if (value.length() > ECHO_CHARS) {
            throw ApiException.invalid("%s is %d characters long: no such name is longer than %d"
                    .formatted(param, value.length(), ECHO_CHARS), param);
        }
        return value;
    }

    private List<String> stops(Object stop) {
        List<String> stops = switch (stop) {
            case null -> null;
            case String s when s.isEmpty() -> throw ApiException.invalid("stop must not be an empty string", "stop");
            case String s -> List.of(s);
            case List<?> list when list.stream().allMatch(s -> s instanceof String str && !str.isEmpty()) ->
                    list.stream().map(String.class::cast).toList();
            default -> throw ApiException.invalid("stop must be a string or a list of non-empty strings", "stop");
        };
        if (stops == null) {
            return null;
        }
        if (stops.size() > limits.maxStopSequences()) {
            throw ApiException.invalid("stop has %d strings but at most %d are taken (innerq.max-stop-sequences)"
                    .formatted(stops.size(), limits.maxStopSequences()), "stop");
        }
        for (int i = 0; i < stops.size(); i++) {
            if (stops.get(i).length() > limits.maxStopLength()) {
                throw ApiException.invalid("stop[%d] has %d characters but at most %d are taken (innerq.max-stop-length)"
                        .formatted(i, stops.get(i).length(), limits.maxStopLength()), "stop");
            }
        }
        return stops;
    }

    private String prompt(Object prompt) {
        String text = switch (prompt) {
            case String s -> s;
            case List<?> list when list.size() == 1 && list.getFirst() instanceof String s -> s;
            case List<?> list when list.size() > 1 && list.stream().allMatch(String.class::isInstance) ->
                    throw ApiException.invalid("a batch of prompts is not supported: send one prompt per request",
                            "prompt");
            case null -> throw ApiException.invalid("prompt is required", "prompt");
            default -> throw ApiException.invalid("prompt must be a string (token arrays are not supported)",
                    "prompt");
        };
        checkLength(text, "prompt");
        return text;
    }

    private void checkLength(String text, String param) {
        if (text.length() > limits.maxMessageLength()) {
            throw ApiException.invalid("%s has %d characters but at most %d are taken (innerq.max-message-length)"
                    .formatted(param, text.length(), limits.maxMessageLength()), param);
        }
    }

    private List<ChatMessage> messages(List<OpenAiApi.Message> messages) {
        if (messages == null || messages.isEmpty()) {
            throw ApiException.invalid("messages must hold at least one message", "messages");
        }
        if (messages.size() > limits.maxMessages()) {
            throw ApiException.invalid("messages holds %d messages but at most %d are taken (innerq.max-messages)"
                    .formatted(messages.size(), limits.maxMessages()), "messages");
        }
        var out = new ArrayList<ChatMessage>();
        for (int i = 0; i < messages.size(); i++) {
            OpenAiApi.Message m = messages.get(i);
            String param = "messages[%d]".formatted(i);
            if (m == null || m.role() == null) {
                throw ApiException.invalid(param + " needs a role", param + ".role");
            }
            String content = content(m.content(), param + ".content");
            checkLength(content, param + ".content");
            out.add(switch (m.role().toLowerCase(Locale.ROOT)) {
                case "system", "developer" -> ChatMessage.system(content);
                case "user" -> ChatMessage.user(content);
                case "assistant" -> ChatMessage.assistant(content);
                default -> throw ApiException.invalid(("%s has role '%s': InnerQ takes system, developer, user and "
                        + "assistant messages").formatted(param, echo(m.role())), param + ".role");
            });
        }
        return out;
    }

    private String content(Object content, String param) {
        return switch (content) {
            case null -> "";
            case String s -> s;
            case List<?> parts -> {
                var text = new StringBuilder();
                for (Object part : parts) {
                    if (part instanceof Map<?, ?> map && "text".equals(map.get("type"))
                            && map.get("text") instanceof String s) {
                        text.append(s);
                        checkLength(text, param);
                    } else {
                        throw ApiException.invalid(param + ": only text parts are supported", param);
                    }
                }
                yield text.toString();
            }
            default -> throw ApiException.invalid(param + " must be a string or a list of text parts", param);
        };
    }

    private void checkLength(StringBuilder text, String param) {
        if (text.length() > limits.maxMessageLength()) {
            checkLength(text.toString(), param);
        }
    }
}
