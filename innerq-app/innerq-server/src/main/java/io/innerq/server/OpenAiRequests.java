package io.innerq.server;

import io.innerq.cache.KvMode;
import io.innerq.chat.ChatMessage;
import io.innerq.engine.ContextLengthExceededException;
import io.innerq.server.OpenAiApi.ChatCompletionRequest;
import io.innerq.server.OpenAiApi.CompletionRequest;
import io.innerq.serving.GenerationOptions;
import io.innerq.serving.InnerqEngine;
import io.innerq.serving.PreparedGeneration;
import org.springframework.http.HttpStatus;
import tools.jackson.databind.JsonNode;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The bodies of {@code /v1/chat/completions} and {@code /v1/completions}, as Spring MVC read them, turned into
 * generations the engine has checked ({@link InnerqEngine#prepare}): every field and every limit of
 * {@link InnerqServerProperties} is checked here, once, before anything runs; unset options take the chat defaults
 * ({@code spring.ai.innerq.chat.options.*}). A request that cannot run fails with an {@link ApiException} that names
 * the field as the client wrote it and the limit, or with the KV budget's exception, which {@link OpenAiErrors}
 * answers as a 429. The model a request names is only compared with the loaded model's names: nothing in a request
 * names a file.
 *
 * <p>OpenAI's fields that InnerQ does not implement are taken only with a value that asks for nothing ({@link #CHAT},
 * {@link #COMPLETION}, {@link #MESSAGE}): {@code presence_penalty: 0}, {@code logit_bias: {}}, {@code tools: []}, and
 * fields that change nothing of the answer ({@code user}, {@code metadata}); any other value is refused by name, as
 * is every field OpenAI's API does not have.
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

    /** The JSON types a field of {@link Field} takes. */
    private enum JsonType {
        STRING("a string", JsonNode::isString),
        INTEGER("an integer", JsonNode::isIntegralNumber),
        NUMBER("a number", JsonNode::isNumber),
        BOOLEAN("a boolean", JsonNode::isBoolean),
        OBJECT("an object", JsonNode::isObject),
        ARRAY("an array", JsonNode::isArray),
        STRING_OR_OBJECT("a string or an object", n -> n.isString() || n.isObject()),
        ANY("a JSON value", n -> true);

        final String phrase;
        final Predicate<JsonNode> test;

        JsonType(String phrase, Predicate<JsonNode> test) {
            this.phrase = phrase;
            this.test = test;
        }
    }

    /**
     * One of OpenAI's fields that InnerQ takes only where its value asks for nothing InnerQ lacks: JSON null (as if
     * absent), or a value {@code neutral} accepts. Other values are refused: {@code why} says what they ask for,
     * {@code instead} what may be sent (null: only removing it).
     */
    private record Field(String name, JsonType type, Predicate<JsonNode> neutral, String why, String instead) {

        void check(String param, JsonNode value) {
            if (value == null || value.isNull()) {
                return;
            }
            if (!type.test.test(value)) {
                throw ApiException.invalidType(param, type.phrase, JsonErrors.got(value));
            }
            if (!neutral.test(value)) {
                throw ApiException.unsupported(param, why, instead);
            }
        }
    }

    private static Predicate<JsonNode> any() {
        return v -> true;
    }

    private static Predicate<JsonNode> none() {
        return v -> false;
    }

    /** Exactly 0, whatever the number (an integer past 64 bits, a decimal past a double: not 0). */
    private static Predicate<JsonNode> zero() {
        return v -> v.isIntegralNumber() ? v.bigIntegerValue().signum() == 0 : v.doubleValue(Double.NaN) == 0;
    }

    private static Predicate<JsonNode> empty() {
        return JsonNode::isEmpty;
    }

    private static Predicate<JsonNode> isFalse() {
        return v -> !v.asBoolean();
    }

    private static Predicate<JsonNode> oneOf(String... values) {
        Set<String> set = Set.of(values);
        return v -> v.isString() && set.contains(v.asString());
    }

    private static Map<String, Field> fields(Field... fields) {
        var map = new java.util.LinkedHashMap<String, Field>();
        for (Field f : fields) {
            map.put(f.name(), f);
        }
        return Map.copyOf(map);
    }

    private static final String NO_TOOLS = "InnerQ has no tool calling";
    private static final String NO_LOGPROBS = "InnerQ does not return log probabilities";

    /** OpenAI's chat completion fields beyond those of {@link ChatCompletionRequest}. */
    private static final Map<String, Field> CHAT = fields(
            new Field("frequency_penalty", JsonType.NUMBER, zero(),
                    "InnerQ has no frequency penalty (repeat_penalty penalizes repeated tokens)", "0"),
            new Field("presence_penalty", JsonType.NUMBER, zero(),
                    "InnerQ has no presence penalty (repeat_penalty penalizes repeated tokens)", "0"),
            new Field("logit_bias", JsonType.OBJECT, empty(), "InnerQ does not bias token logits", "{}"),
            new Field("logprobs", JsonType.BOOLEAN, isFalse(), NO_LOGPROBS, "false"),
            new Field("top_logprobs", JsonType.INTEGER, zero(), NO_LOGPROBS, "0"),
            new Field("tools", JsonType.ARRAY, empty(), NO_TOOLS, "[]"),
            new Field("tool_choice", JsonType.STRING_OR_OBJECT, oneOf("none", "auto"), NO_TOOLS,
                    "\"none\" or \"auto\""),
            new Field("parallel_tool_calls", JsonType.BOOLEAN, any(), null, null),
            new Field("functions", JsonType.ARRAY, empty(), "InnerQ has no function calling", "[]"),
            new Field("function_call", JsonType.STRING_OR_OBJECT, oneOf("none", "auto"),
                    "InnerQ has no function calling", "\"none\" or \"auto\""),
            new Field("response_format", JsonType.OBJECT, v -> v.size() == 1 && oneOf("text").test(v.path("type")),
                    "InnerQ answers in plain text (no JSON mode or schema)", "{\"type\": \"text\"}"),
            new Field("store", JsonType.BOOLEAN, isFalse(), "InnerQ stores no completions", "false"),
            new Field("metadata", JsonType.OBJECT, any(), null, null),
            new Field("user", JsonType.STRING, any(), null, null),
            new Field("safety_identifier", JsonType.STRING, any(), null, null),
            new Field("prompt_cache_key", JsonType.STRING, any(), null, null),
            new Field("prompt_cache_retention", JsonType.STRING, any(), null, null),
            new Field("service_tier", JsonType.STRING, oneOf("auto", "default"), "InnerQ has one service tier",
                    "\"auto\" or \"default\""),
            new Field("modalities", JsonType.ARRAY, v -> v.size() == 1 && oneOf("text").test(v.get(0)),
                    "InnerQ answers in text only", "[\"text\"]"),
            new Field("audio", JsonType.OBJECT, none(), "InnerQ has no audio output", null),
            new Field("prediction", JsonType.OBJECT, none(), "InnerQ has no predicted outputs", null),
            new Field("reasoning_effort", JsonType.STRING, oneOf("none"), "the model does not reason",
                    "\"none\""),
            new Field("verbosity", JsonType.STRING, none(), "InnerQ does not steer the length of answers "
                    + "(max_tokens bounds it)", null),
            new Field("web_search_options", JsonType.OBJECT, none(), "InnerQ has no web search", null));

    /** OpenAI's (legacy) completion fields beyond those of {@link CompletionRequest}. */
    private static final Map<String, Field> COMPLETION = fields(
            CHAT.get("frequency_penalty"), CHAT.get("presence_penalty"), CHAT.get("logit_bias"), CHAT.get("user"),
            new Field("best_of", JsonType.INTEGER, any(), null, null), // 1, checked with n
            new Field("logprobs", JsonType.INTEGER, zero(), NO_LOGPROBS, "0"),
            new Field("suffix", JsonType.STRING, v -> v.asString().isEmpty(),
                    "InnerQ has no fill in the middle", "\"\""));

    /** OpenAI's message fields beyond {@code role} and {@code content}. */
    private static final Map<String, Field> MESSAGE = fields(
            new Field("name", JsonType.STRING, none(), "the chat template has no names of participants", null),
            new Field("tool_calls", JsonType.ARRAY, empty(), NO_TOOLS, "[]"),
            new Field("tool_call_id", JsonType.STRING, none(), NO_TOOLS, null),
            new Field("function_call", JsonType.OBJECT, none(), "InnerQ has no function calling", null),
            new Field("refusal", JsonType.STRING, none(), "the chat template has no refusals", null),
            new Field("audio", JsonType.OBJECT, none(), "InnerQ has no audio", null));

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
        checkFields("", body.others(), CHAT);
        checkN(body.n());
        boolean includeUsage = includeUsage(body.streamOptions());
        List<ChatMessage> messages = messages(body.messages());
        boolean completionTokens = body.maxCompletionTokens() != null;
        String maxTokensName = completionTokens ? "max_completion_tokens" : "max_tokens";
        GenerationOptions options = options(completionTokens ? body.maxCompletionTokens() : body.maxTokens(),
                maxTokensName, body.temperature(), body.topP(), body.topK(), body.minP(),
                body.repeatPenalty(), body.repetitionPenalty(), body.seed(), body.stop(), body.kvCacheMode());
        PreparedGeneration prepared = prepare(() -> engine.prepareChat(messages, options), "messages",
                options.maxTokens() == null ? null : maxTokensName);
        return new Chat(prepared, messages, options, Boolean.TRUE.equals(body.stream()), includeUsage);
    }

    Text completion(CompletionRequest body) {
        checkModel(body.model());
        checkFields("", body.others(), COMPLETION);
        checkN(body.n());
        JsonNode bestOf = body.others().get("best_of"); // an integer or null: checked with the other fields
        if (bestOf != null && !bestOf.isNull() && !bestOf.bigIntegerValue().equals(BigInteger.ONE)) {
            throw ApiException.unsupportedValue("best_of", ("'best_of' other than 1 is not supported by InnerQ, "
                    + "which makes one completion per request: remove it, or send 1 (got %s)")
                    .formatted(bestOf.asString()));
        }
        boolean includeUsage = includeUsage(body.streamOptions());
        String prompt = prompt(body.prompt());
        GenerationOptions options = options(body.maxTokens(), "max_tokens", body.temperature(), body.topP(),
                body.topK(), body.minP(), body.repeatPenalty(), body.repetitionPenalty(), body.seed(), body.stop(),
                body.kvCacheMode());
        PreparedGeneration prepared = prepare(() -> engine.prepareCompletion(prompt, options), "prompt",
                options.maxTokens() == null ? null : "max_tokens");
        return new Text(prepared, prompt, options, Boolean.TRUE.equals(body.stream()), includeUsage,
                Boolean.TRUE.equals(body.echo()));
    }

    /**
     * The engine's checks of a generation (the prompt, the context, the cache mode, the KV budget): a prompt over
     * the context names {@code promptParam}, or {@code maxTokensParam} where the prompt alone would fit.
     */
    private static PreparedGeneration prepare(Supplier<PreparedGeneration> prepare, String promptParam,
                                              String maxTokensParam) {
        try {
            return prepare.get();
        } catch (ContextLengthExceededException e) {
            boolean promptFits = e.promptTokens() < e.contextLength();
            throw ApiException.invalid(e.getMessage(), promptFits && maxTokensParam != null ? maxTokensParam
                    : promptParam, "context_length_exceeded");
        } catch (IllegalArgumentException e) { // the prompt: empty, and the model has no BOS token
            throw ApiException.invalid(e.getMessage(), promptParam, "invalid_value");
        }
    }

    /** The 404 for a model this server does not run; the name is compared, never opened. */
    ApiException unknownModel(String model) {
        return new ApiException(HttpStatus.NOT_FOUND, ApiException.INVALID_REQUEST,
                "The model '%s' does not exist: this server runs '%s' (GET /v1/models)".formatted(echo(model),
                        engine.modelId()), "model", "model_not_found");
    }

    /** A name from the request as an error message repeats it: at most {@value #ECHO_CHARS} characters. */
    static String echo(String sent) {
        return sent.length() <= ECHO_CHARS ? sent
                : sent.substring(0, ECHO_CHARS) + "... (%d characters)".formatted(sent.length());
    }

    /** Refuses the fields of {@code others} that are not in {@code known}, or whose value asks for something. */
    private static void checkFields(String prefix, Map<String, JsonNode> others, Map<String, Field> known) {
        for (Map.Entry<String, JsonNode> e : others.entrySet()) {
            String param = prefix + echo(e.getKey());
            Field field = known.get(e.getKey());
            if (field == null) {
                throw ApiException.unknownParameter(param);
            }
            field.check(param, e.getValue());
        }
    }

    private static boolean includeUsage(OpenAiApi.StreamOptions options) {
        if (options == null) {
            return false;
        }
        checkFields("stream_options.", options.others(), Map.of());
        if (Boolean.TRUE.equals(options.includeObfuscation())) {
            throw ApiException.unsupported("stream_options.include_obfuscation",
                    "InnerQ does not pad stream events", "false");
        }
        return Boolean.TRUE.equals(options.includeUsage());
    }

    private void checkModel(String model) {
        if (model != null && !model.isBlank() && !engine.serves(model)) {
            throw unknownModel(model);
        }
    }

    private static void checkN(Long n) {
        if (n != null && n != 1) {
            throw ApiException.unsupportedValue("n", ("n must be 1, got %d: 'n' other than 1 is not supported by "
                    + "InnerQ, which returns one choice per request").formatted(n));
        }
    }

    /** The request's options, each checked once (the cache mode parsed once), laid over the defaults. */
    private GenerationOptions options(Long maxTokens, String maxTokensName, Double temperature, Double topP,
                                      Long topK, Double minP, Double repeatPenalty, Double repetitionPenalty,
                                      Long seed, JsonNode stop, String kvCacheMode) {
        int context = engine.model().config().contextLength();
        if (maxTokens != null && (maxTokens < 1 || maxTokens > context)) {
            throw ApiException.outOfRange(maxTokensName, true, maxTokens < 1,
                    "%s must be between 1 and %d (the model's context), got %d".formatted(maxTokensName, context,
                            maxTokens));
        }
        if (temperature != null && !(temperature >= 0 && Double.isFinite(temperature))) {
            throw ApiException.outOfRange("temperature", false, !(temperature >= 0), ("temperature must be a finite "
                    + "number of at least 0 (0 decodes greedily), got %s").formatted(number(temperature)));
        }
        if (topP != null && !(topP > 0 && topP <= 1)) {
            throw ApiException.outOfRange("top_p", false, !(topP > 0),
                    "top_p must be in (0, 1], got %s".formatted(number(topP)));
        }
        if (topK != null && topK < 0) {
            throw ApiException.outOfRange("top_k", true, true,
                    "top_k must be at least 0 (0 turns it off), got %d".formatted(topK));
        }
        if (minP != null && !(minP >= 0 && minP < 1)) {
            throw ApiException.outOfRange("min_p", false, !(minP >= 0),
                    "min_p must be in [0, 1), got %s".formatted(number(minP)));
        }
        String penaltyName = repeatPenalty != null ? "repeat_penalty" : "repetition_penalty";
        Double penalty = repeatPenalty != null ? repeatPenalty : repetitionPenalty;
        if (penalty != null && !(penalty > 0 && Double.isFinite(penalty))) {
            throw ApiException.outOfRange(penaltyName, false, !(penalty > 0), ("%s must be greater than 0 and finite "
                    + "(1 turns it off), got %s").formatted(penaltyName, number(penalty)));
        }
        KvMode mode = null;
        if (kvCacheMode != null) {
            try {
                mode = KvMode.parse(echoLimited("kv_cache_mode", kvCacheMode));
                engine.kvBytes(mode, 1, 1); // a mode that cannot serve this model's head_dim fails here
            } catch (IllegalArgumentException e) {
                throw ApiException.invalid(e.getMessage(), "kv_cache_mode", "invalid_value");
            }
        }
        List<String> stops = stops(stop);
        try {
            return GenerationOptions.builder().maxTokens(maxTokens == null ? null : maxTokens.intValue())
                    .temperature(temperature).topP(topP)
                    .topK(topK == null ? null : (int) Math.min(topK, Integer.MAX_VALUE)) // more than the vocabulary
                    .minP(minP).repetitionPenalty(penalty).seed(seed).stop(stops).kvMode(mode)
                    .build().over(defaults);
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid(e.getMessage(), null, "invalid_value"); // checked above: not reached
        }
    }

    /** A number as the client would have written it: {@code 2}, not {@code 2.0}. */
    private static String number(double value) {
        return value == Math.rint(value) && Math.abs(value) < 1e15 ? Long.toString((long) value)
                : Double.toString(value);
    }

    /** A short name field (a cache mode) whose error message repeats it: too long to be one is refused first. */
    private static String echoLimited(String param, String value) {
        if (value.length() > ECHO_CHARS) {
            throw ApiException.invalid("%s is %d characters long: no such name is longer than %d"
                    .formatted(param, value.length(), ECHO_CHARS), param, "invalid_value");
        }
        return value;
    }

    private List<String> stops(JsonNode stop) {
        if (stop == null || stop.isNull()) {
            return null;
        }
        List<String> stops;
        if (stop.isString()) {
            if (stop.asString().isEmpty()) {
                throw ApiException.invalid("stop must not be an empty string", "stop", "invalid_value");
            }
            stops = List.of(stop.asString());
        } else if (stop.isArray()) {
            stops = new ArrayList<>();
            for (JsonNode s : stop) {
                if (!s.isString()) {
                    throw ApiException.invalid("stop must be a string or a list of non-empty strings, but it holds %s"
                            .formatted(JsonErrors.got(s)), "stop", "invalid_type");
                }
                if (s.asString().isEmpty()) {
                    throw ApiException.invalid("stop must be a string or a list of non-empty strings, but it holds "
                            + "an empty string", "stop", "invalid_value");
                }
                stops.add(s.asString());
            }
        } else {
            throw ApiException.invalidType("stop", "a string or an array of strings", JsonErrors.got(stop));
        }
        if (stops.size() > limits.maxStopSequences()) {
            throw ApiException.invalid("stop has %d strings but at most %d are taken (innerq.max-stop-sequences)"
                    .formatted(stops.size(), limits.maxStopSequences()), "stop", "invalid_value");
        }
        for (int i = 0; i < stops.size(); i++) {
            if (stops.get(i).length() > limits.maxStopLength()) {
                throw ApiException.invalid("stop[%d] has %d characters but at most %d are taken (innerq.max-stop-length)"
                        .formatted(i, stops.get(i).length(), limits.maxStopLength()), "stop", "invalid_value");
            }
        }
        return stops;
    }

    private String prompt(JsonNode prompt) {
        if (prompt == null || prompt.isNull()) {
            throw ApiException.missing("prompt");
        }
        String text;
        if (prompt.isString()) {
            text = prompt.asString();
        } else if (prompt.isArray() && prompt.size() == 1 && prompt.get(0).isString()) {
            text = prompt.get(0).asString();
        } else if (prompt.isArray() && prompt.size() > 1 && allStrings(prompt)) {
            throw ApiException.unsupportedValue("prompt",
                    "a batch of prompts is not supported: send one prompt per request");
        } else if (prompt.isArray() && !prompt.isEmpty()) {
            throw ApiException.unsupportedValue("prompt", "prompt must be a string (token arrays are not supported)");
        } else {
            throw ApiException.invalidType("prompt", "a string", prompt.isArray() ? "an empty array"
                    : JsonErrors.got(prompt));
        }
        checkLength(text, "prompt");
        return text;
    }

    private static boolean allStrings(JsonNode array) {
        for (JsonNode n : array) {
            if (!n.isString()) {
                return false;
            }
        }
        return true;
    }

    private void checkLength(CharSequence text, String param) {
        if (text.length() > limits.maxMessageLength()) {
            throw ApiException.invalid("%s has %d characters but at most %d are taken (innerq.max-message-length)"
                    .formatted(param, text.length(), limits.maxMessageLength()), param, "invalid_value");
        }
    }

    private List<ChatMessage> messages(List<OpenAiApi.Message> messages) {
        if (messages == null) {
            throw ApiException.missing("messages");
        }
        if (messages.isEmpty()) {
            throw ApiException.invalid("messages must hold at least one message", "messages", "empty_array");
        }
        if (messages.size() > limits.maxMessages()) {
            throw ApiException.invalid("messages holds %d messages but at most %d are taken (innerq.max-messages)"
                    .formatted(messages.size(), limits.maxMessages()), "messages", "invalid_value");
        }
        var out = new ArrayList<ChatMessage>();
        for (int i = 0; i < messages.size(); i++) {
            OpenAiApi.Message m = messages.get(i);
            String param = "messages[%d]".formatted(i);
            if (m == null) {
                throw ApiException.invalidType(param, "an object", "null");
            }
            if (m.role() == null) {
                throw ApiException.missing(param + ".role");
            }
            String role = m.role().toLowerCase(Locale.ROOT);
            if (role.equals("tool") || role.equals("function")) {
                throw ApiException.unsupportedValue(param + ".role", ("%s has role '%s', which is not supported: "
                        + "InnerQ has no tool calling").formatted(param, role));
            }
            checkFields(param + ".", m.others(), MESSAGE);
            String content = content(m.content(), param + ".content");
            out.add(switch (role) {
                case "system", "developer" -> ChatMessage.system(content);
                case "user" -> ChatMessage.user(content);
                case "assistant" -> ChatMessage.assistant(content);
                default -> throw ApiException.invalid(("%s has role '%s': InnerQ takes system, developer, user and "
                        + "assistant messages").formatted(param, echo(m.role())), param + ".role", "invalid_value");
            });
        }
        return out;
    }

    /** A message's content: a string, or the text of its parts; null (an assistant's) is empty. */
    private String content(JsonNode content, String param) {
        if (content == null || content.isNull()) {
            return "";
        }
        if (content.isString()) {
            checkLength(content.asString(), param);
            return content.asString();
        }
        if (!content.isArray()) {
            throw ApiException.invalidType(param, "a string or an array of content parts", JsonErrors.got(content));
        }
        var text = new StringBuilder();
        for (int j = 0; j < content.size(); j++) {
            JsonNode part = content.get(j);
            String partParam = "%s[%d]".formatted(param, j);
            if (!part.isObject()) {
                throw ApiException.invalidType(partParam, "an object", JsonErrors.got(part));
            }
            JsonNode type = part.get("type");
            if (type == null || type.isNull()) {
                throw ApiException.missing(partParam + ".type");
            }
            if (!type.isString()) {
                throw ApiException.invalidType(partParam + ".type", "a string", JsonErrors.got(type));
            }
            switch (type.asString()) {
                case "text" -> {
                    for (String key : part.propertyNames()) {
                        if (!key.equals("type") && !key.equals("text")) {
                            throw ApiException.unknownParameter(partParam + "." + echo(key));
                        }
                    }
                    JsonNode partText = part.get("text");
                    if (partText == null || partText.isNull()) {
                        throw ApiException.missing(partParam + ".text");
                    }
                    if (!partText.isString()) {
                        throw ApiException.invalidType(partParam + ".text", "a string", JsonErrors.got(partText));
                    }
                    text.append(partText.asString());
                    checkLength(text, param);
                }
                case "image_url", "input_audio", "file", "refusal" -> throw ApiException.unsupportedValue(
                        partParam + ".type", ("%s parts are not supported: the model reads text only, send "
                                + "{\"type\": \"text\", \"text\": ...} parts").formatted(type.asString()));
                default -> throw ApiException.invalid("%s.type is '%s': InnerQ takes 'text' parts".formatted(partParam,
                        echo(type.asString())), partParam + ".type", "invalid_value");
            }
        }
        return text.toString();
    }
}
