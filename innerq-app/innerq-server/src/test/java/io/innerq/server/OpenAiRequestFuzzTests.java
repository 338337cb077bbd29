package io.innerq.server;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.innerq.server.OpenAiApi.ChatCompletionRequest;
import io.innerq.server.OpenAiApi.CompletionRequest;
import io.innerq.serving.InnerqEngine;
import io.innerq.serving.PreparedGeneration;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.core.MethodParameter;
import org.springframework.http.MediaType;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.web.context.request.ServletWebRequest;
import org.springframework.web.method.support.HandlerMethodArgumentResolver;
import org.springframework.web.method.support.ModelAndViewContainer;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerAdapter;

import java.util.function.Function;

/**
 * Coverage-guided fuzzing of the OpenAI request bodies: any bytes sent to {@code /v1/chat/completions} or
 * {@code /v1/completions} are read by the running service's own {@code @RequestBody} resolver (its message converters
 * and JSON mapper, taken from its {@link RequestMappingHandlerAdapter}) and checked by its {@link OpenAiRequests},
 * which ends in {@link InnerqEngine#prepare} (tokenization, the context, the KV budget); nothing is generated. A body
 * either becomes a generation within every limit, or fails with an exception that {@link OpenAiErrors} answers with
 * a 4xx and a message. Anything it would answer with a 500 (a {@code NullPointerException}, a
 * {@code ClassCastException}, a JSON mapping the converter cannot handle, a stack overflow) is a finding.
 *
 * <p>Seeds: {@code OpenAiRequestFuzzTestsInputs/<method>/}. Without {@code JAZZER_FUZZ} the tests replay only the
 * seeds, against the shared test service of {@link InnerqServiceTest}.
 */
@InnerqServiceTest
class OpenAiRequestFuzzTests {

    @Autowired
    RequestMappingHandlerAdapter mvc;

    @Autowired
    OpenAiRequests requests;

    @Autowired
    InnerqEngine engine;

    @Autowired
    InnerqServerProperties limits;

    @FuzzTest(maxDuration = "60s")
    @DictionaryEntries({"\"model\"", "\"messages\"", "\"role\"", "\"content\"", "\"user\"", "\"system\"",
            "\"assistant\"", "\"developer\"", "\"type\"", "\"text\"", "\"stream\"", "\"stream_options\"",
            "\"include_usage\"", "\"max_tokens\"", "\"max_completion_tokens\"", "\"temperature\"", "\"top_p\"",
            "\"top_k\"", "\"min_p\"", "\"repeat_penalty\"", "\"repetition_penalty\"", "\"seed\"", "\"stop\"",
            "\"n\"", "\"frequency_penalty\"", "\"presence_penalty\"", "\"tools\"", "\"functions\"",
            "\"logprobs\"", "\"response_format\"", "\"kv_cache_mode\"", "\"fp32\"", "\"fp16\"", "\"q8\"",
            "\"innerq-small\"", "\"innerq:k3,v2h,g8,s4,r8,norm\"", "\"stories260K\"", "null", "true", "false",
            "1e308", "-0", "[]", "{}"})
    void chatCompletions(byte[] body) {
        check(body, "chatCompletions", ChatCompletionRequest.class, r -> requests.chat(r).prepared());
    }

    @FuzzTest(maxDuration = "60s")
    @DictionaryEntries({"\"model\"", "\"prompt\"", "\"stream\"", "\"stream_options\"", "\"include_usage\"",
            "\"max_tokens\"", "\"temperature\"", "\"top_p\"", "\"top_k\"", "\"min_p\"", "\"repeat_penalty\"",
            "\"repetition_penalty\"", "\"seed\"", "\"stop\"", "\"n\"", "\"best_of\"", "\"echo\"", "\"suffix\"",
            "\"logprobs\"", "\"frequency_penalty\"", "\"presence_penalty\"", "\"kv_cache_mode\"", "\"fp32\"",
            "\"innerq-small\"", "\"innerq:k3,v2h,g8,s4,r8,norm\"", "\"stories260K\"", "\"<s>\"", "null", "true",
            "false", "1e308", "-0", "[]", "{}"})
    void completions(byte[] body) {
        check(body, "completions", CompletionRequest.class, r -> requests.completion(r).prepared());
    }

    /**
     * Reads {@code body} as the controller method {@code handler}'s {@code @RequestBody} of type {@code type} and
     * checks it; a success must be a generation within the limits, a failure a 4xx with a message.
     */
    private <T> void check(byte[] body, String handler, Class<T> type, Function<T, PreparedGeneration> checkRequest) {
        PreparedGeneration prepared;
        try {
            T request = type.cast(readBody(body, handler, type));
            prepared = checkRequest.apply(request);
        } catch (Exception | StackOverflowError | OutOfMemoryError e) {
            ApiException answer = OpenAiErrors.translate(e);
            if (!answer.status().is4xxClientError()) {
                throw new AssertionError("the service would answer %d to this body: %s".formatted(
                        answer.status().value(), answer.getMessage()), e);
            }
            if (answer.getMessage() == null || answer.getMessage().isBlank()) {
                throw new AssertionError("a %d without a message".formatted(answer.status().value()), e);
            }
            return;
        }
        int context = engine.model().config().contextLength();
        int maxTokens = prepared.request().maxTokens();
        if (prepared.promptTokens() < 1 || maxTokens < 1 || prepared.capacity() > context) {
            throw new AssertionError("accepted a generation of %d prompt + %d tokens in a context of %d"
                    .formatted(prepared.promptTokens(), maxTokens, context));
        }
        if (prepared.kvBytes() > engine.kvBudgetBytes()) {
            throw new AssertionError("accepted a KV cache of %d bytes over the budget of %d"
                    .formatted(prepared.kvBytes(), engine.kvBudgetBytes()));
        }
        for (String stop : prepared.request().stopStrings()) {
            if (stop.isEmpty() || stop.length() > limits.maxStopLength()) {
                throw new AssertionError("accepted a stop string of %d characters".formatted(stop.length()));
            }
        }
    }

    /** The controller's own argument resolver for its {@code @RequestBody}, as a POST of {@code body} would run it. */
    private Object readBody(byte[] body, String handler, Class<?> type) throws Exception {
        var parameter = new MethodParameter(OpenAiController.class.getDeclaredMethod(handler, type,
                HttpServletRequest.class, HttpServletResponse.class), 0);
        HandlerMethodArgumentResolver resolver = mvc.getArgumentResolvers().stream()
                .filter(r -> r.supportsParameter(parameter)).findFirst().orElseThrow();
        var request = new MockHttpServletRequest("POST", "/v1/" + handler);
        request.setContentType(MediaType.APPLICATION_JSON_VALUE);
        request.setContent(body);
        return resolver.resolveArgument(parameter, new ModelAndViewContainer(), new ServletWebRequest(request), null);
    }
}
