package io.innerq.app.ai;

import io.innerq.app.serving.GenerationEvent;
import io.innerq.app.serving.GenerationListener;
import io.innerq.app.serving.GenerationOutcome;
import io.innerq.app.serving.InnerqEngine;
import io.innerq.app.serving.PreparedGeneration;
import io.innerq.cache.KvMode;
import io.innerq.chat.ChatMessage;
import io.innerq.chat.ChatTemplate;
import io.innerq.engine.GenerationRequest;
import io.innerq.engine.GenerationResult;
import io.innerq.sampling.SamplingParams;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import org.springframework.ai.chat.messages.AssistantMessage;
import org.springframework.ai.chat.messages.Message;
import org.springframework.ai.chat.metadata.ChatGenerationMetadata;
import org.springframework.ai.chat.metadata.ChatResponseMetadata;
import org.springframework.ai.chat.metadata.DefaultUsage;
import org.springframework.ai.chat.model.ChatModel;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.chat.model.Generation;
import org.springframework.ai.chat.observation.ChatModelObservationContext;
import org.springframework.ai.chat.observation.ChatModelObservationConvention;
import org.springframework.ai.chat.observation.ChatModelObservationDocumentation;
import org.springframework.ai.chat.observation.DefaultChatModelObservationConvention;
import org.springframework.ai.chat.prompt.Prompt;
import reactor.core.publisher.Flux;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Spring AI's {@link ChatModel} over an {@link InnerqEngine}: the prompt's messages are written with the model's
 * chat template ({@link ChatTemplate}), options are the model's defaults overlaid with the prompt's, and each call
 * is observed as a Spring AI chat operation (provider {@value #PROVIDER}).
 *
 * <p>{@link #stream} emits one {@link ChatResponse} per text delta, each with the usage so far, then one last
 * response with empty text, the finish reason ({@code stop} or {@code length}) and the final usage. Cancelling the
 * stream stops the generation and frees its KV cache at once.
 */
public final class InnerqChatModel implements ChatModel {

    /** The provider name in observations. */
    public static final String PROVIDER = "innerq";

    private static final ChatModelObservationConvention DEFAULT_CONVENTION =
            new DefaultChatModelObservationConvention();

    private final InnerqEngine engine;
    private final InnerqChatOptions defaults;
    private final ObservationRegistry observations;
    private ChatModelObservationConvention convention;

    public InnerqChatModel(InnerqEngine engine, InnerqChatOptions defaults, ObservationRegistry observations) {
        this.engine = engine;
        this.defaults = defaults.getModel() == null ? defaults.mutate().model(engine.modelId()).build() : defaults;
        this.observations = observations;
        checkModel(this.defaults.getModel());
    }

    /** Replaces the default observation convention. */
    public void setObservationConvention(ChatModelObservationConvention convention) {
        this.convention = convention;
    }

    public InnerqEngine engine() {
        return engine;
    }

    /** The defaults every request starts from, the model's id included. */
    @Override
    public InnerqChatOptions getOptions() {
        return defaults;
    }

    @Override
    public ChatResponse call(Prompt prompt) {
        Prompt request = withDefaults(prompt);
        var context = ChatModelObservationContext.builder().prompt(request).provider(PROVIDER).build();
        return ChatModelObservationDocumentation.CHAT_MODEL_OPERATION
                .observation(convention, DEFAULT_CONVENTION, () -> context, observations)
                .observe(() -> {
                    PreparedGeneration prepared = engine.prepare(generationRequest(request));
                    GenerationOutcome outcome = engine.generate(prepared, GenerationListener.IGNORE);
                    GenerationResult r = outcome.result();
                    ChatResponse response = response(newId(), r.text(), outcome.finishReason(), r.promptTokens(),
                            r.completionTokens(), prepared.request().kvMode());
                    context.setResponse(response);
                    return response;
                });
    }

    @Override
    public Flux<ChatResponse> stream(Prompt prompt) {
        return Flux.defer(() -> {
            Prompt request = withDefaults(prompt);
            var context = ChatModelObservationContext.builder().prompt(request).provider(PROVIDER).streaming(true)
                    .build();
            Observation observation = ChatModelObservationDocumentation.CHAT_MODEL_OPERATION
                    .observation(convention, DEFAULT_CONVENTION, () -> context, observations);
            observation.start();
            String id = newId();
            var last = new AtomicReference<ChatResponse>();
            return Flux.defer(() -> {
                        PreparedGeneration prepared = engine.prepare(generationRequest(request));
                        KvMode mode = prepared.request().kvMode();
                        return engine.stream(prepared).map(event -> switch (event) {
                            case GenerationEvent.Delta d ->
                                    response(id, d.text(), null, d.promptTokens(), d.completionTokens(), mode);
                            case GenerationEvent.Finished f -> response(id, "", f.outcome().finishReason(),
                                    f.outcome().result().promptTokens(), f.outcome().result().completionTokens(),
                                    mode);
                        });
                    })
                    .doOnNext(last::set)
                    .doOnError(observation::error)
                    .doFinally(signal -> {
                        if (last.get() != null) {
                            context.setResponse(last.get());
                        }
                        observation.stop();
                    });
        });
    }

    /** The request for a conversation: the model's chat template, its stop strings plus the options'. */
    public GenerationRequest chatRequest(List<ChatMessage> messages, InnerqChatOptions options) {
        if (messages.isEmpty()) {
            throw new IllegalArgumentException("a chat request needs at least one message");
        }
        checkModel(options.getModel());
        ChatTemplate template = engine.model().chatTemplate();
        String text = template.render(messages, true);
        var stops = new LinkedHashSet<>(template.stopStrings());
        if (options.getStopSequences() != null) {
            stops.addAll(options.getStopSequences());
        }
        return new GenerationRequest(text, maxTokens(options), sampling(options), List.copyOf(stops),
                !template.rendersBos(), true, kvMode(options));
    }

    /** The request for a plain-text completion of {@code prompt} (no chat template; BOS added). */
    public GenerationRequest completionRequest(String prompt, InnerqChatOptions options) {
        checkModel(options.getModel());
        List<String> stops = options.getStopSequences() == null ? List.of() : options.getStopSequences();
        return new GenerationRequest(prompt, maxTokens(options), sampling(options), stops, true, true,
                kvMode(options));
    }

    /** {@code options} laid over this model's defaults. */
    public InnerqChatOptions withDefaults(InnerqChatOptions options) {
        return defaults.mutate().combineWith(options.mutate()).build();
    }

    private Prompt withDefaults(Prompt prompt) {
        InnerqChatOptions.Builder merged = defaults.mutate();
        if (prompt.getOptions() != null) {
            merged.combineWith(prompt.getOptions().mutate());
        }
        return new Prompt(prompt.getInstructions(), merged.build());
    }

    private GenerationRequest generationRequest(Prompt request) {
        var messages = new ArrayList<ChatMessage>();
        for (Message m : request.getInstructions()) {
            String text = m.getText() == null ? "" : m.getText();
            messages.add(switch (m.getMessageType()) {
                case SYSTEM -> ChatMessage.system(text);
                case USER -> ChatMessage.user(text);
                case ASSISTANT -> ChatMessage.assistant(text);
                case TOOL -> throw new IllegalArgumentException(
                        "InnerQ does not call tools: remove the tool response messages from the prompt");
            });
        }
        return chatRequest(messages, (InnerqChatOptions) request.getOptions());
    }

    private void checkModel(String requested) {
        if (requested != null && !engine.serves(requested)) {
            throw new UnknownModelException(requested, engine.modelId());
        }
    }

    private static int maxTokens(InnerqChatOptions options) {
        return options.getMaxTokens() == null ? GenerationRequest.UNTIL_CONTEXT_ENDS : options.getMaxTokens();
    }

    private KvMode kvMode(InnerqChatOptions options) {
        return options.getKvCacheMode() == null ? engine.settings().defaultKvMode()
                : KvMode.parse(options.getKvCacheMode());
    }

    private static SamplingParams sampling(InnerqChatOptions o) {
        long seed = o.getSeed() != null ? o.getSeed() : ThreadLocalRandom.current().nextLong();
        SamplingParams p = SamplingParams.defaults(seed);
        if (o.getTemperature() != null) {
            p = p.withTemperature(o.getTemperature().floatValue());
        }
        if (o.getTopK() != null) {
            p = p.withTopK(o.getTopK());
        }
        if (o.getTopP() != null) {
            p = p.withTopP(o.getTopP().floatValue());
        }
        if (o.getMinP() != null) {
            p = p.withMinP(o.getMinP().floatValue());
        }
        if (o.getRepetitionPenalty() != null) {
            p = p.withRepetitionPenalty(o.getRepetitionPenalty().floatValue());
        }
        return p;
    }

    private ChatResponse response(String id, String text, String finishReason, int promptTokens,
                                  int completionTokens, KvMode mode) {
        var generationMetadata = ChatGenerationMetadata.builder();
        if (finishReason != null) {
            generationMetadata.finishReason(finishReason);
        }
        var metadata = ChatResponseMetadata.builder()
                .id(id)
                .model(engine.modelId())
                .usage(new DefaultUsage(promptTokens, completionTokens, promptTokens + completionTokens))
                .keyValue("kv-cache-mode", mode.name())
                .build();
        return new ChatResponse(List.of(new Generation(new AssistantMessage(text), generationMetadata.build())),
                metadata);
    }

    private static String newId() {
        return "chatcmpl-" + UUID.randomUUID();
    }

    /** A request named a model this server does not run. */
    public static final class UnknownModelException extends IllegalArgumentException {
        private final String requested;

        UnknownModelException(String requested, String served) {
            super("unknown model '%s': this server runs '%s' (GET /v1/models lists it; set innerq.model to serve another)"
                    .formatted(requested, served));
            this.requested = requested;
        }

        public String requested() {
            return requested;
        }
    }
}
