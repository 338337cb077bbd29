package io.innerq.engine;

import io.innerq.model.HostForward;
import io.innerq.model.LlamaConfig;
import io.innerq.model.LlamaForward;
import io.innerq.model.LlamaModel;
import io.innerq.port.in.GenerateUseCase;
import io.innerq.port.out.ForwardPort;
import io.innerq.port.out.KvCachePort;
import io.innerq.port.out.MatVecPort;
import io.innerq.sampling.Sampler;
import io.innerq.tokenizer.TokenDecoder;
import io.innerq.tokenizer.Tokenizer;

/**
 * Prefill and decode for one model: tokenizes the prompt, runs it through the model into a fresh KV cache, then
 * samples token by token until an end-of-generation token, a stop string, the token limit or cancellation.
 * Logits that are not all finite end the generation with a {@link NonFiniteLogitsException}.
 * Each call uses its own cache and buffers, so calls may run concurrently when the ports allow it.
 */
public final class Generator implements GenerateUseCase {

    private final LlamaModel model;
    private final ForwardPort forward;

    /** Prompt tokens run between two checks of {@link TokenSink#cancelled()}. */
    public static final int PROMPT_CHUNK = 8 * LlamaForward.PREFILL_BATCH;

    /** A generator whose forward pass runs on {@code forward} (one port per model: it may hold the model's weights). */
    public Generator(LlamaModel model, ForwardPort forward) {
        this.model = model;
        this.forward = forward;
    }

    /** A generator on the host's forward pass: {@code ops} for the matrix products, {@code caches} for the KV cache. */
    public Generator(LlamaModel model, MatVecPort ops, KvCachePort caches) {
        this(model, new HostForward(model, ops, caches));
    }

    @Override
    public GenerationResult generate(GenerationRequest request, TokenSink sink) {
        return generate(model.tokenizer().encode(request.prompt(), request.addBos(), request.parseSpecial()), request,
                sink);
    }

    /**
     * As {@link #generate(GenerationRequest, TokenSink)} for a prompt its caller has already tokenized (as
     * {@code request}'s tokenizer settings say), so that it is not tokenized twice.
     *
     * @throws ContextLengthExceededException when the prompt and the tokens asked for do not fit the context
     * @throws NonFiniteLogitsException       when the model computes a NaN or infinite logit; the cache is freed
     */
    public GenerationResult generate(int[] prompt, GenerationRequest request, TokenSink sink) {
        Tokenizer tokenizer = model.tokenizer();
        LlamaConfig config = model.config();
        if (prompt.length == 0) {
            throw new IllegalArgumentException("the prompt is empty and the model has no BOS token to start from");
        }
        int context = config.contextLength();
        int maxTokens = request.maxTokens() == GenerationRequest.UNTIL_CONTEXT_ENDS
                ? context - prompt.length
                : request.maxTokens();
        if (prompt.length + Math.max(maxTokens, 0) > context || prompt.length >= context) {
            throw new ContextLengthExceededException(prompt.length,
                    request.maxTokens() == GenerationRequest.UNTIL_CONTEXT_ENDS ? 0 : maxTokens, context);
        }
        int capacity = prompt.length + maxTokens;
        int[] tokens = new int[capacity];
        System.arraycopy(prompt, 0, tokens, 0, prompt.length);

        var sampler = new Sampler(request.sampling(), config.vocabularySize());
        var stops = new StopStringMatcher(request.stopStrings());
        TokenDecoder decoder = tokenizer.newDecoder();
        for (int t : prompt) {
            decoder.next(t); // so the decoder knows what precedes the first generated token
        }

        try (ForwardPort.Sequence sequence = forward.start(capacity, request.kvMode())) {
            long start = System.nanoTime();
            float[] logits = null;
            for (int from = 0; from < prompt.length; from += PROMPT_CHUNK) {
                if (sink.cancelled()) {
                    return new GenerationResult("", prompt.length, 0, FinishReason.CANCELLED, System.nanoTime() - start, 0);
                }
                logits = sequence.prefill(prompt, from, Math.min(PROMPT_CHUNK, prompt.length - from));
            }
            sequence.endPrefill(prompt.length);
            long prefillEnd = System.nanoTime();

            int length = prompt.length;
            FinishReason reason = FinishReason.LENGTH;
            int generated = 0;
            while (generated < maxTokens) {
                requireFinite(logits, config.vocabularySize(), length - 1);
                int next = sampler.sample(logits, tokens, length);
                if (tokenizer.isEndOfGeneration(next)) {
                    reason = FinishReason.STOP;
                    break;
                }
                generated++;
                tokens[length++] = next;
                String out = stops.add(decoder.next(next));
                if (!out.isEmpty() && !sink.accept(out)) {
                    reason = FinishReason.CANCELLED;
                    break;
                }
                if (stops.stopped()) {
                    reason = FinishReason.STOP;
                    break;
                }
                if (generated < maxTokens) {
                    logits = sequence.step(next, length - 1, true);
                }
            }
            if (reason != FinishReason.CANCELLED) {
                String tail = stops.add(decoder.finish());
                tail += stops.flush();
                if (!tail.isEmpty()) {
                    sink.accept(tail);
                }
            }
            long end = System.nanoTime();
            return new GenerationResult(stops.emittedText(), prompt.length, generated, reason,
                    prefillEnd - start, end - prefillEnd);
        }
    }

    /** Refuses logits with a NaN or infinite value: no token can be sampled from them. */
    private void requireFinite(float[] logits, int vocabulary, int position) {
        for (int i = 0; i < vocabulary; i++) {
            if (!Float.isFinite(logits[i])) {
                throw new NonFiniteLogitsException(model.fileName(), position, i, logits[i]);
            }
        }
    }

    public LlamaModel model() {
        return model;
    }

    /** The forward pass this generator runs on. */
    public ForwardPort forward() {
        return forward;
    }
}
