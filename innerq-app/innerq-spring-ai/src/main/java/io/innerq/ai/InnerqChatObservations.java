package io.innerq.ai;

import io.innerq.cache.KvMode;
import io.innerq.chat.ChatMessage;
import io.innerq.serving.GenerationOptions;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import org.springframework.ai.chat.messages.AssistantMessage;
import org.springframework.ai.chat.messages.Message;
import org.springframework.ai.chat.messages.SystemMessage;
import org.springframework.ai.chat.messages.UserMessage;
import org.springframework.ai.chat.metadata.ChatGenerationMetadata;
import org.springframework.ai.chat.metadata.ChatResponseMetadata;
import org.springframework.ai.chat.metadata.DefaultUsage;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.chat.model.Generation;
import org.springframework.ai.chat.observation.ChatModelObservationContext;
import org.springframework.ai.chat.observation.ChatModelObservationConvention;
import org.springframework.ai.chat.observation.ChatModelObservationDocumentation;
import org.springframework.ai.chat.observation.DefaultChatModelObservationConvention;
import org.springframework.ai.chat.prompt.ChatOptions;
import org.springframework.ai.chat.prompt.Prompt;

import java.util.List;

/**
 * Spring AI's chat observations ({@code gen_ai.client.operation}, provider {@value InnerqChatModel#PROVIDER}) of
 * InnerQ's generations: the {@link InnerqChatModel}'s calls, and work that reaches the engine another way (the HTTP
 * API), so that both show as the same metrics and spans.
 */
public final class InnerqChatObservations {

    private static final ChatModelObservationConvention DEFAULT_CONVENTION =
            new DefaultChatModelObservationConvention();

    private final ObservationRegistry registry;
    private volatile ChatModelObservationConvention convention;

    public InnerqChatObservations(ObservationRegistry registry) {
        this.registry = registry;
    }

    /** Replaces the default observation convention. */
    public void setConvention(ChatModelObservationConvention convention) {
        this.convention = convention;
    }

    /** A chat operation not started yet; {@link Observed#respond} records its answer before it stops. */
    public Observed observe(Prompt prompt, boolean streaming) {
        var context = ChatModelObservationContext.builder().prompt(prompt).provider(InnerqChatModel.PROVIDER)
                .streaming(streaming).build();
        return new Observed(ChatModelObservationDocumentation.CHAT_MODEL_OPERATION
                .observation(convention, DEFAULT_CONVENTION, () -> context, registry), context);
    }

    /** An observation and its context. */
    public record Observed(Observation observation, ChatModelObservationContext context) {
        /** The answer, for the usage and the response's model in the metrics. */
        public void respond(ChatResponse response) {
            context.setResponse(response);
        }
    }

    /** A prompt as Spring AI describes it, for a conversation that reached the engine without one. */
    public static Prompt prompt(List<ChatMessage> messages, GenerationOptions options, String model) {
        List<Message> instructions = messages.stream().<Message>map(m -> switch (m.role()) {
            case SYSTEM -> new SystemMessage(m.content());
            case USER -> new UserMessage(m.content());
            case ASSISTANT -> new AssistantMessage(m.content());
        }).toList();
        return new Prompt(instructions, ChatOptions.builder().model(model).maxTokens(options.maxTokens())
                .temperature(options.temperature()).topP(options.topP()).topK(options.topK())
                .stopSequences(options.stop()).build());
    }

    /** A response as {@link InnerqChatModel} answers: one generation, usage so far, the cache mode in the metadata. */
    public static ChatResponse response(String id, String model, String text, String finishReason, int promptTokens,
                                        int completionTokens, KvMode mode) {
        var generationMetadata = ChatGenerationMetadata.builder();
        if (finishReason != null) {
            generationMetadata.finishReason(finishReason);
        }
        var metadata = ChatResponseMetadata.builder()
                .id(id)
                .model(model)
                .usage(new DefaultUsage(promptTokens, completionTokens, promptTokens + completionTokens))
                .keyValue("kv-cache-mode", mode.name())
                .build();
        return new ChatResponse(List.of(new Generation(new AssistantMessage(text), generationMetadata.build())),
                metadata);
    }
}
