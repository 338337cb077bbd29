package io.innerq.server;

import com.fasterxml.jackson.annotation.JsonInclude;
import tools.jackson.databind.PropertyNamingStrategies;
import tools.jackson.databind.annotation.JsonNaming;

import java.util.List;
import java.util.Map;

/**
 * The JSON of OpenAI's API that InnerQ speaks: requests as clients send them (unknown fields are ignored), responses
 * in OpenAI's shapes. Fields InnerQ adds to requests, as llama.cpp's server and vLLM do: {@code top_k},
 * {@code min_p}, {@code repeat_penalty} (or {@code repetition_penalty}) and {@code kv_cache_mode}; to choices, only
 * when {@code spring.ai.innerq.generation-timeout} stopped the generation, {@code finish_detail: "time_limit"} (the finish
 * reason is then {@code length}).
 */
final class OpenAiApi {

    private OpenAiApi() {
    }

    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    record ChatCompletionRequest(String model, List<Message> messages, Boolean stream, StreamOptions streamOptions,
                                 Integer maxTokens, Integer maxCompletionTokens, Double temperature, Double topP,
                                 Integer topK, Double minP, Double repeatPenalty, Double repetitionPenalty, Long seed,
                                 Object stop, Integer n, Double frequencyPenalty, Double presencePenalty,
                                 List<Object> tools, List<Object> functions, Boolean logprobs,
                                 Map<String, Object> responseFormat, String kvCacheMode) {
    }

    /** {@code content}: a string, or a list of parts of which only {@code {"type": "text", "text": ...}} is read. */
    record Message(String role, Object content) {
    }

    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    record StreamOptions(Boolean includeUsage) {
    }

    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    record CompletionRequest(String model, Object prompt, Boolean stream, StreamOptions streamOptions,
                             Integer maxTokens, Double temperature, Double topP, Integer topK, Double minP,
                             Double repeatPenalty, Double repetitionPenalty, Long seed, Object stop, Integer n,
                             Integer bestOf, Boolean echo, String suffix, Integer logprobs, Double frequencyPenalty,
                             Double presencePenalty, String kvCacheMode) {
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
