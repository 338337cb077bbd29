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
 * Each call uses its own cache and buffers, so calls may run concurrently when the ports allow it.
 */
public final class Generator implements GenerateUseCase {

    private final LlamaModel model;
    private final ForwardPort forward;

    /** Prompt tokens run between two checks of {@link TokenSink#cancelled()}. */
    public static final int PROMPT_CHUNK = 4 * LlamaForward.PREFILL_BATCH;

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
        try (Generation generation = start(prompt, request)) {
            while (!generation.done()) {
                if (generation.pendingText() != null) {
                    generation.delivered(sink.accept(generation.pendingText()));
                } else if (generation.prompting() && sink.cancelled()) {
                    generation.cancel();
                } else {
                    generation.runAlone(PROMPT_CHUNK);
                }
            }
            return generation.result();
        }
    }

    /**
     * A generation of {@code prompt} (tokenized as {@code request} says) with its sequence started on this
     * generator's forward pass, for a caller that drives its steps ({@link Generation}); the caller closes it.
     *
     * @throws ContextLengthExceededException when the prompt plus {@code maxTokens} exceed the context
     * @throws IllegalArgumentException       when the prompt is empty or the backend cannot store the cache mode
     */
    public Generation start(int[] prompt, GenerationRequest request) {
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
        Tokenizer tokenizer = model.tokenizer();
        var sampler = new Sampler(request.sampling(), config.vocabularySize());
        var stops = new StopStringMatcher(request.stopStrings());
        TokenDecoder decoder = tokenizer.newDecoder();
        ForwardPort.Sequence sequence = forward.start(prompt.length + maxTokens, request.kvMode());
        try {
            return new Generation(model.fileName(), tokenizer, sequence, prompt, maxTokens, sampler, stops, decoder);
        } catch (RuntimeException e) {
            sequence.close();
            throw e;
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
