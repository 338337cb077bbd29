package io.innerq.app.server;

import io.innerq.app.serving.GenerationListener;
import io.innerq.app.serving.GenerationOutcome;
import io.innerq.app.serving.InnerqEngine;
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
import java.util.List;
import java.util.UUID;

/**
 * OpenAI's chat completions, completions and models endpoints over the engine. Streams are server-sent events,
 * {@code data: {chunk}} per text delta, ending with {@code data: [DONE]}; a client that disconnects stops its
 * generation at the next token, which frees its KV cache. The bodies are checked by {@link OpenAiRequests}; admission
 * (a slot, the KV budget) happens before the response starts, so a stream that cannot run is refused with a plain
 * HTTP error.
 */
@RestController
@RequestMapping(path = "/v1", produces = MediaType.APPLICATION_JSON_VALUE)
class OpenAiController {

    private static final Logger log = LoggerFactory.getLogger(OpenAiController.class);

    private final InnerqEngine engine;
    private final OpenAiRequests requests;
    private final JsonMapper json;
    private final long modelCreated;

    OpenAiController(InnerqEngine engine, OpenAiRequests requests, JsonMapper json) {
        this.engine = engine;
        this.requests = requests;
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
            throw requests.unknownModel(id);
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
        OpenAiRequests.Chat chat = requests.chat(body);
        String id = "chatcmpl-" + UUID.randomUUID();
        long created = Instant.now().getEpochSecond();
        String model = engine.modelId();
        if (chat.stream()) {
            InnerqEngine.Admission admission = engine.admit(chat.prepared());
            sse(response, admission, sse -> {
                sse.send(new ChatChunk(id, "chat.completion.chunk", created, model,
                        List.of(new ChunkChoice(0, new Delta("assistant", ""), null, null, null)), null));
                GenerationOutcome outcome = engine.run(admission, sse.listener(text ->
                        new ChatChunk(id, "chat.completion.chunk", created, model,
                                List.of(new ChunkChoice(0, new Delta(null, text), null, null, null)), null)));
                if (outcome.cancelledByConsumer()) {
                    return;
                }
                sse.send(new ChatChunk(id, "chat.completion.chunk", created, model,
                        List.of(new ChunkChoice(0, new Delta(null, null), null, outcome.finishReason(),
                                finishDetail(outcome))), null));
                if (chat.includeUsage()) {
                    sse.send(new ChatChunk(id, "chat.completion.chunk", created, model, List.of(),
                            usage(outcome.result())));
                }
                sse.done();
            });
            return null; // written
        }
        GenerationOutcome outcome = engine.generate(chat.prepared(), GenerationListener.IGNORE);
        GenerationResult r = outcome.result();
        return ResponseEntity.ok(new ChatCompletion(id, "chat.completion", created, model,
                List.of(new ChatChoice(0, new ResponseMessage("assistant", r.text()), null, outcome.finishReason(),
                        finishDetail(outcome))),
                usage(r)));
    }

    @PostMapping(path = "/completions", consumes = MediaType.APPLICATION_JSON_VALUE,
            produces = {MediaType.APPLICATION_JSON_VALUE, MediaType.TEXT_EVENT_STREAM_VALUE})
    ResponseEntity<?> completions(@RequestBody CompletionRequest body, HttpServletResponse response)
            throws IOException {
        OpenAiRequests.Text completion = requests.completion(body);
        String prompt = completion.prompt();
        String id = "cmpl-" + UUID.randomUUID();
        long created = Instant.now().getEpochSecond();
        String model = engine.modelId();
        if (completion.stream()) {
            InnerqEngine.Admission admission = engine.admit(completion.prepared());
            sse(response, admission, sse -> {
                if (completion.echo()) {
                    sse.send(new Completion(id, "text_completion", created, model,
                            List.of(new CompletionChoice(prompt, 0, null, null, null)), null));
                }
                GenerationOutcome outcome = engine.run(admission, sse.listener(text ->
                        new Completion(id, "text_completion", created, model,
                                List.of(new CompletionChoice(text, 0, null, null, null)), null)));
                if (outcome.cancelledByConsumer()) {
                    return;
                }
                sse.send(new Completion(id, "text_completion", created, model,
                        List.of(new CompletionChoice("", 0, null, outcome.finishReason(), finishDetail(outcome))),
                        null));
                if (completion.includeUsage()) {
                    sse.send(new Completion(id, "text_completion", created, model, List.of(),
                            usage(outcome.result())));
                }
                sse.done();
            });
            return null; // written
        }
        GenerationOutcome outcome = engine.generate(completion.prepared(), GenerationListener.IGNORE);
        GenerationResult r = outcome.result();
        String text = completion.echo() ? prompt + r.text() : r.text();
        return ResponseEntity.ok(new Completion(id, "text_completion", created, model,
                List.of(new CompletionChoice(text, 0, null, outcome.finishReason(), finishDetail(outcome))),
                usage(r)));
    }

    private static Usage usage(GenerationResult r) {
        return Usage.of(r.promptTokens(), r.completionTokens());
    }

    /** {@code time_limit} when {@code innerq.generation-timeout} stopped the generation (its finish reason is length). */
    private static String finishDetail(GenerationOutcome outcome) {
        return outcome.timedOut() ? "time_limit" : null;
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
