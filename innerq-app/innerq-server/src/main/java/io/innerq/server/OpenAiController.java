package io.innerq.server;

import io.innerq.ai.InnerqChatObservations;
import io.innerq.chat.ChatMessage;
import io.innerq.engine.GenerationResult;
import io.innerq.serving.GenerationListener;
import io.innerq.serving.GenerationOutcome;
import io.innerq.serving.InnerqEngine;
import io.innerq.serving.PreparedGeneration;
import io.innerq.server.OpenAiApi.ChatChoice;
import io.innerq.server.OpenAiApi.ChatChunk;
import io.innerq.server.OpenAiApi.ChatCompletion;
import io.innerq.server.OpenAiApi.ChatCompletionRequest;
import io.innerq.server.OpenAiApi.ChunkChoice;
import io.innerq.server.OpenAiApi.Completion;
import io.innerq.server.OpenAiApi.CompletionChoice;
import io.innerq.server.OpenAiApi.CompletionRequest;
import io.innerq.server.OpenAiApi.Delta;
import io.innerq.server.OpenAiApi.ModelCard;
import io.innerq.server.OpenAiApi.ModelList;
import io.innerq.server.OpenAiApi.ResponseMessage;
import io.innerq.server.OpenAiApi.Usage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import jakarta.servlet.http.HttpServletRequest;
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
import java.util.List;
import java.util.UUID;

/**
 * OpenAI's chat completions, completions and models endpoints over the engine. Streams are server-sent events,
 * {@code data: {chunk}} per text delta, ending with {@code data: [DONE]}; a client that disconnects stops its
 * generation at the next token, which frees its KV cache. The bodies are checked by {@link OpenAiRequests}; admission
 * (a slot, the KV budget) happens before the response starts, so a stream that cannot run is refused with a plain
 * HTTP error. Each generation is observed as a Spring AI chat operation, as the {@code ChatModel}'s calls are
 * ({@link InnerqChatObservations}).
 */
@RestController
@RequestMapping(path = "/v1", produces = MediaType.APPLICATION_JSON_VALUE)
class OpenAiController {

    private static final Logger log = LoggerFactory.getLogger(OpenAiController.class);

    private final InnerqEngine engine;
    private final OpenAiRequests requests;
    private final InnerqChatObservations observations;
    private final JsonMapper json;
    private final long modelCreated;

    OpenAiController(InnerqEngine engine, OpenAiRequests requests, InnerqChatObservations observations,
                     JsonMapper json) {
        this.engine = engine;
        this.requests = requests;
        this.observations = observations;
        this.json = json;
        long created = Instant.now().getEpochSecond();
        if (engine.model().file().isPresent()) {
            try {
                created = Files.getLastModifiedTime(engine.model().file().get()).toInstant().getEpochSecond();
            } catch (IOException e) {
                // the start time, then
            }
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
            throw requests.unknownModel(id);
        }
        return card();
    }

    private ModelCard card() {
        return new ModelCard(engine.modelId(), "model", modelCreated, "innerq");
    }

    @PostMapping(path = "/chat/completions", consumes = MediaType.APPLICATION_JSON_VALUE,
            produces = {MediaType.APPLICATION_JSON_VALUE, MediaType.TEXT_EVENT_STREAM_VALUE})
    ResponseEntity<?> chatCompletions(@RequestBody ChatCompletionRequest body, HttpServletRequest request,
                                      HttpServletResponse response)
            throws IOException {
        OpenAiRequests.Chat chat = requests.chat(body);
        String id = "chatcmpl-" + UUID.randomUUID();
        long created = Instant.now().getEpochSecond();
        String model = engine.modelId();
        InnerqChatObservations.Observed observed = observations.observe(
                InnerqChatObservations.prompt(chat.messages(), chat.options(), model), chat.stream());
        if (chat.stream()) {
            InnerqEngine.Admission admission = engine.admit(chat.prepared());
            sse(request, response, admission, observed, id, sse -> {
                sse.send(new ChatChunk(id, "chat.completion.chunk", created, model,
                        List.of(new ChunkChoice(0, new Delta("assistant", ""), null, null, null)), null));
                GenerationOutcome outcome = engine.run(admission, sse.listener(text ->
                        new ChatChunk(id, "chat.completion.chunk", created, model,
                                List.of(new ChunkChoice(0, new Delta(null, text), null, null, null)), null)));
                if (outcome.cancelledByConsumer()) {
                    return outcome;
                }
                sse.send(new ChatChunk(id, "chat.completion.chunk", created, model,
                        List.of(new ChunkChoice(0, new Delta(null, null), null, outcome.finishReason(),
                                finishDetail(outcome))), null));
                if (chat.includeUsage()) {
                    sse.send(new ChatChunk(id, "chat.completion.chunk", created, model, List.of(),
                            usage(outcome.result())));
                }
                sse.done();
                return outcome;
            });
            return null; // written
        }
        GenerationOutcome outcome = observed.observation().observe(() -> generate(chat.prepared(), observed, id));
        GenerationResult r = outcome.result();
        return ResponseEntity.ok(new ChatCompletion(id, "chat.completion", created, model,
                List.of(new ChatChoice(0, new ResponseMessage("assistant", r.text()), null, outcome.finishReason(),
                        finishDetail(outcome))),
                usage(r)));
    }

    @PostMapping(path = "/completions", consumes = MediaType.APPLICATION_JSON_VALUE,
            produces = {MediaType.APPLICATION_JSON_VALUE, MediaType.TEXT_EVENT_STREAM_VALUE})
    ResponseEntity<?> completions(@RequestBody CompletionRequest body, HttpServletRequest request,
                                  HttpServletResponse response)
            throws IOException {
        OpenAiRequests.Text completion = requests.completion(body);
        String prompt = completion.prompt();
        String id = "cmpl-" + UUID.randomUUID();
        long created = Instant.now().getEpochSecond();
        String model = engine.modelId();
        InnerqChatObservations.Observed observed = observations.observe(InnerqChatObservations.prompt(
                List.of(ChatMessage.user(prompt)), completion.options(), model), completion.stream());
        if (completion.stream()) {
            InnerqEngine.Admission admission = engine.admit(completion.prepared());
            sse(request, response, admission, observed, id, sse -> {
                if (completion.echo()) {
                    sse.send(new Completion(id, "text_completion", created, model,
                            List.of(new CompletionChoice(prompt, 0, null, null, null)), null));
                }
                GenerationOutcome outcome = engine.run(admission, sse.listener(text ->
                        new Completion(id, "text_completion", created, model,
                                List.of(new CompletionChoice(text, 0, null, null, null)), null)));
                if (outcome.cancelledByConsumer()) {
                    return outcome;
                }
                sse.send(new Completion(id, "text_completion", created, model,
                        List.of(new CompletionChoice("", 0, null, outcome.finishReason(), finishDetail(outcome))),
                        null));
                if (completion.includeUsage()) {
                    sse.send(new Completion(id, "text_completion", created, model, List.of(),
                            usage(outcome.result())));
                }
                sse.done();
                return outcome;
            });
            return null; // written
        }
        GenerationOutcome outcome = observed.observation().observe(
                () -> generate(completion.prepared(), observed, id));
        GenerationResult r = outcome.result();
        String text = completion.echo() ? prompt + r.text() : r.text();
        return ResponseEntity.ok(new Completion(id, "text_completion", created, model,
                List.of(new CompletionChoice(text, 0, null, outcome.finishReason(), finishDetail(outcome))),
                usage(r)));
    }

    /** Runs a generation to its end and records its answer in the observation. */
    private GenerationOutcome generate(PreparedGeneration prepared, InnerqChatObservations.Observed observed,
                                       String id) {
        GenerationOutcome outcome = engine.generate(prepared, GenerationListener.IGNORE);
        respond(observed, id, prepared, outcome);
        return outcome;
    }

    private void respond(InnerqChatObservations.Observed observed, String id, PreparedGeneration prepared,
                         GenerationOutcome outcome) {
        GenerationResult r = outcome.result();
        observed.respond(InnerqChatObservations.response(id, engine.modelId(), r.text(), outcome.finishReason(),
                r.promptTokens(), r.completionTokens(), prepared.request().kvMode()));
    }

    private static Usage usage(GenerationResult r) {
        return Usage.of(r.promptTokens(), r.completionTokens());
    }

    /** {@code time_limit} when {@code spring.ai.innerq.generation-timeout} stopped the generation (its finish reason is length). */
    private static String finishDetail(GenerationOutcome outcome) {
        return outcome.timedOut() ? "time_limit" : null;
    }

    /** What a stream writes, on the request's thread, which is also the generation's; returns how it ended. */
    @FunctionalInterface
    private interface StreamBody {
        GenerationOutcome write(Sse sse) throws IOException;
    }

    /**
     * Answers with a server-sent event stream written by {@code body}; the admission is given back however the
     * stream ends. A failure after the stream began is sent as an error event in OpenAI's shape,
     * {@code data: {"error": {...}}}, then {@code [DONE]}.
     */
    private void sse(HttpServletRequest request, HttpServletResponse response, InnerqEngine.Admission admission,
                     InnerqChatObservations.Observed observed, String id, StreamBody body) throws IOException {
        PreparedGeneration prepared = admission.prepared();
        observed.observation().start();
        try (admission) {
            response.setStatus(HttpStatus.OK.value());
            response.setContentType(MediaType.TEXT_EVENT_STREAM_VALUE);
            response.setCharacterEncoding(StandardCharsets.UTF_8.name());
            response.setHeader("Cache-Control", "no-cache");
            response.setHeader("X-Accel-Buffering", "no");
            var sse = new Sse(response.getOutputStream());
            try {
                respond(observed, id, prepared, body.write(sse));
            } catch (RuntimeException e) {
                observed.observation().error(e);
                sse.send(OpenAiErrors.translate(e, request).body()); // a failure of the server is logged there
                sse.done();
            }
        } catch (IOException e) {
            log.debug("stream closed by the client: {}", e.toString());
        } finally {
            observed.observation().stop();
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
