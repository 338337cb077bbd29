package io.innerq.ai;

import io.innerq.serving.GenerationEvent;
import io.innerq.serving.GenerationListener;
import io.innerq.serving.GenerationOutcome;
import io.innerq.serving.InnerqEngine;
import io.innerq.serving.PreparedGeneration;
import io.innerq.cache.KvMode;
import io.innerq.chat.ChatMessage;
import io.innerq.chat.ChatTemplate;
import io.innerq.engine.GenerationResult;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import org.springframework.ai.chat.messages.Message;
import org.springframework.ai.chat.model.ChatModel;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.chat.observation.ChatModelObservationConvention;
import org.springframework.ai.chat.prompt.Prompt;
import reactor.core.publisher.Flux;

import java.util.ArrayList;
import java.util.UUID;
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

    private final InnerqEngine engine;
    private final InnerqChatOptions defaults;
    private final InnerqChatObservations observations;

    public InnerqChatModel(InnerqEngine engine, InnerqChatOptions defaults, ObservationRegistry observations) {
        this.engine = engine;
        this.defaults = defaults.getModel() == null ? defaults.mutate().model(engine.modelId()).build() : defaults;
        this.observations = new InnerqChatObservations(observations);
        checkModel(this.defaults.getModel());
    }

    /** Replaces the default observation convention. */
    public void setObservationConvention(ChatModelObservationConvention convention) {
        observations.setConvention(convention);
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
        InnerqChatObservations.Observed observed = observations.observe(request, false);
        return observed.observation().observe(() -> {
            PreparedGeneration prepared = prepare(request);
            GenerationOutcome outcome = engine.generate(prepared, GenerationListener.IGNORE);
            GenerationResult r = outcome.result();
            ChatResponse response = response(newId(), r.text(), outcome.finishReason(), r.promptTokens(),
                    r.completionTokens(), prepared.request().kvMode());
            observed.respond(response);
            return response;
        });
    }

    @Override
    public Flux<ChatResponse> stream(Prompt prompt) {
        return Flux.defer(() -> {
            Prompt request = withDefaults(prompt);
            InnerqChatObservations.Observed observed = observations.observe(request, true);
            Observation observation = observed.observation();
            observation.start();
            String id = newId();
            var last = new AtomicReference<ChatResponse>();
            return Flux.defer(() -> {
                        PreparedGeneration prepared = prepare(request);
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
                            observed.respond(last.get());
                        }
                        observation.stop();
                    });
        });
    }

    private Prompt withDefaults(Prompt prompt) {
        InnerqChatOptions.Builder merged = defaults.mutate();
        if (prompt.getOptions() != null) {
            merged.combineWith(prompt.getOptions().mutate());
        }
        return new Prompt(prompt.getInstructions(), merged.build());
    }

    /** The prompt's messages through the model's chat template, with the merged options: checked and tokenized. */
    private PreparedGeneration prepare(Prompt request) {
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
        InnerqChatOptions options = (InnerqChatOptions) request.getOptions();
        checkModel(options.getModel());
        return engine.prepareChat(messages, options.toGenerationOptions());
    }

    private void checkModel(String requested) {
        if (requested != null && !engine.serves(requested)) {
            throw new UnknownModelException(requested, engine.modelId());
        }
    }

    private ChatResponse response(String id, String text, String finishReason, int promptTokens,
                                  int completionTokens, KvMode mode) {
        return InnerqChatObservations.response(id, engine.modelId(), text, finishReason, promptTokens,
                completionTokens, mode);
    }

    private static String newId() {
        return "chatcmpl-" + UUID.randomUUID();
    }

    /** A request named a model this server does not run. */
    public static final class UnknownModelException extends IllegalArgumentException {
        private final String requested;

        UnknownModelException(String requested, String served) {
            super("unknown model '%s': this server runs '%s' (GET /v1/models lists it; set spring.ai.innerq.model to serve another)"
                    .formatted(requested, served));
            this.requested = requested;
        }

        public String requested() {
            return requested;
        }
    }
}
