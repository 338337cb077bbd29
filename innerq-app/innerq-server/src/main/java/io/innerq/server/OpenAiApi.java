package io.innerq.server;

import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonInclude;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.PropertyNamingStrategies;
import tools.jackson.databind.annotation.JsonNaming;

import java.util.List;
import java.util.Map;

/**
 * The JSON of OpenAI's API that InnerQ speaks: requests as clients send them, responses in OpenAI's shapes. A request
 * record names the fields InnerQ honours, with the JSON types they take; every other field of the body lands in
 * {@code others}, where {@link OpenAiRequests} accepts OpenAI's fields whose value asks for nothing InnerQ lacks and
 * refuses the rest by name. Integers are {@code Long} so that a value out of range is refused by
 * {@link OpenAiRequests} with the field's own range; fields of more than one JSON type are {@link JsonNode}s. Fields
 * InnerQ adds to requests, as llama.cpp's server and vLLM do: {@code top_k}, {@code min_p}, {@code repeat_penalty}
 * (or {@code repetition_penalty}) and {@code kv_cache_mode}; to choices, only when
 * {@code spring.ai.innerq.generation-timeout} stopped the generation, {@code finish_detail: "time_limit"} (the finish
 * reason is then {@code length}).
 */
final class OpenAiApi {

    private OpenAiApi() {
    }

    /** The fields of a body beyond its record's, as sent: never null. */
    private static Map<String, JsonNode> orEmpty(Map<String, JsonNode> others) {
        return others == null ? Map.of() : others;
    }

    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    record ChatCompletionRequest(String model, List<Message> messages, Boolean stream, StreamOptions streamOptions,
                                 Long maxTokens, Long maxCompletionTokens, Double temperature, Double topP,
                                 Long topK, Double minP, Double repeatPenalty, Double repetitionPenalty, Long seed,
                                 JsonNode stop, Long n, String kvCacheMode,
                                 @JsonAnySetter Map<String, JsonNode> others) {
        ChatCompletionRequest {
            others = orEmpty(others);
        }
    }

    /**
     * {@code content}: a string, or an array of parts of which InnerQ takes {@code {"type": "text", "text": ...}}.
     */
    record Message(String role, JsonNode content, @JsonAnySetter Map<String, JsonNode> others) {
        Message {
            others = orEmpty(others);
        }
    }

    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    record StreamOptions(Boolean includeUsage, Boolean includeObfuscation,
                         @JsonAnySetter Map<String, JsonNode> others) {
        StreamOptions {
            others = orEmpty(others);
        }
    }

    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    record CompletionRequest(String model, JsonNode prompt, Boolean stream, StreamOptions streamOptions,
                             Long maxTokens, Double temperature, Double topP, Long topK, Double minP,
                             Double repeatPenalty, Double repetitionPenalty, Long seed, JsonNode stop, Long n,
                             Boolean echo, String kvCacheMode, @JsonAnySetter Map<String, JsonNode> others) {
        CompletionRequest {
            others = orEmpty(others);
        }
    }

    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    record Usage(int promptTokens, int completionTokens, int totalTokens) {
        static Usage of(int prompt, int completion) {
            return new Usage(prompt, completion, prompt + completion);
        }
    }

    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    record ChatCompletion(String id, String object, long created, String model, List<ChatChoice> choices,
                          Usage usage) {
    }

    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    record ChatChoice(int index, ResponseMessage message, Object logprobs, String finishReason,
                      @JsonInclude(JsonInclude.Include.NON_NULL) String finishDetail) {
    }

    record ResponseMessage(String role, String content) {
    }

    /** {@code chat.completion.chunk}; {@code usage} only on the extra last chunk that {@code include_usage} asks for. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    record ChatChunk(String id, String object, long created, String model, List<ChunkChoice> choices,
                     @JsonInclude(JsonInclude.Include.NON_NULL) Usage usage) {
    }

    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    record ChunkChoice(int index, Delta delta, Object logprobs, String finishReason,
                       @JsonInclude(JsonInclude.Include.NON_NULL) String finishDetail) {
    }

    /** The first delta carries the role, the others content; the last is empty. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Delta(String role, String content) {
    }

    /** {@code text_completion}, whole or as one chunk of a stream. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    record Completion(String id, String object, long created, String model, List<CompletionChoice> choices,
                      @JsonInclude(JsonInclude.Include.NON_NULL) Usage usage) {
    }

    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    record CompletionChoice(String text, int index, Object logprobs, String finishReason,
                            @JsonInclude(JsonInclude.Include.NON_NULL) String finishDetail) {
    }

    record ModelList(String object, List<ModelCard> data) {
    }

    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    record ModelCard(String id, String object, long created, String ownedBy) {
    }

    record ErrorResponse(ErrorBody error) {
    }

    record ErrorBody(String message, String type, String param, String code) {
    }
}
