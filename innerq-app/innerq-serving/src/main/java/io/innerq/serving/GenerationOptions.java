package io.innerq.serving;

import io.innerq.cache.KvMode;
import io.innerq.engine.GenerationRequest;
import io.innerq.sampling.SamplingParams;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * What a caller asks of one generation. Every field may be null, meaning "the default": llama.cpp's sampling
 * defaults, generation until the end of text, the context or the KV budget, a fresh seed, and the engine's KV cache
 * mode. Values are checked when the options are made, so a bad value fails where it is set.
 *
 * @param maxTokens         tokens to generate at most
 * @param temperature       0 for greedy decoding
 * @param topP              keep the smallest set of tokens whose probability reaches it, in (0, 1]
 * @param topK              keep the k most likely tokens; 0 disables
 * @param minP              drop tokens less likely than this fraction of the most likely, in [0, 1)
 * @param repetitionPenalty penalty on recently seen tokens (llama.cpp's repeat penalty); 1 disables
 * @param seed              random seed for sampling
 * @param stop              the generation ends before the first of these strings
 * @param kvMode            how the generation's KV cache is stored
 */
public record GenerationOptions(Integer maxTokens, Double temperature, Double topP, Integer topK, Double minP,
                                Double repetitionPenalty, Long seed, List<String> stop, KvMode kvMode) {

    /** Every value left to the defaults. */
    public static final GenerationOptions DEFAULTS = builder().build();

    public GenerationOptions {
        check(maxTokens == null || maxTokens >= 1, "max tokens must be >= 1, got " + maxTokens);
        check(temperature == null || (temperature >= 0 && Double.isFinite(temperature)),
                "temperature must be >= 0, got " + temperature);
        check(topP == null || (topP > 0 && topP <= 1), "top-p must be in (0, 1], got " + topP);
        check(topK == null || topK >= 0, "top-k must be >= 0 (0 disables it), got " + topK);
        check(minP == null || (minP >= 0 && minP < 1), "min-p must be in [0, 1), got " + minP);
        check(repetitionPenalty == null || (repetitionPenalty > 0 && Double.isFinite(repetitionPenalty)),
                "repetition penalty must be > 0 (1 disables it), got " + repetitionPenalty);
        if (stop != null) {
            for (String s : stop) {
                check(s != null && !s.isEmpty(), "stop strings must not be empty");
            }
            stop = List.copyOf(new LinkedHashSet<>(stop));
        }
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** These options laid over {@code defaults}: each value set here wins; stop strings of both apply. */
    public GenerationOptions over(GenerationOptions defaults) {
        List<String> stops = stop;
        if (defaults.stop != null) {
            var union = new LinkedHashSet<>(defaults.stop);
            if (stop != null) {
                union.addAll(stop);
            }
            stops = List.copyOf(union);
        }
        return new GenerationOptions(first(maxTokens, defaults.maxTokens), first(temperature, defaults.temperature),
                first(topP, defaults.topP), first(topK, defaults.topK), first(minP, defaults.minP),
                first(repetitionPenalty, defaults.repetitionPenalty), first(seed, defaults.seed), stops,
                first(kvMode, defaults.kvMode));
    }

    private static <T> T first(T value, T fallback) {
        return value != null ? value : fallback;
    }

    /** The token limit as the generator takes it. */
    int tokenLimit() {
        return maxTokens == null ? GenerationRequest.UNTIL_CONTEXT_ENDS : maxTokens;
    }

    /** The sampling parameters: llama.cpp's defaults where unset; a fresh seed when none is set. */
    public SamplingParams sampling() {
        long s = seed != null ? seed : ThreadLocalRandom.current().nextLong();
        SamplingParams p = SamplingParams.defaults(s);
        return new SamplingParams(
                temperature != null ? temperature.floatValue() : p.temperature(),
                topK != null ? topK : p.topK(),
                topP != null ? topP.floatValue() : p.topP(),
                minP != null ? minP.floatValue() : p.minP(),
                repetitionPenalty != null ? repetitionPenalty.floatValue() : p.repetitionPenalty(),
                p.repetitionWindow(), s);
    }

    /** Builds {@link GenerationOptions}; every setter takes null for "the default". */
    public static final class Builder {
        private Integer maxTokens;
        private Double temperature;
        private Double topP;
        private Integer topK;
        private Double minP;
        private Double repetitionPenalty;
        private Long seed;
        private List<String> stop;
        private KvMode kvMode;

        private Builder() {
        }

        public Builder maxTokens(Integer maxTokens) {
            this.maxTokens = maxTokens;
            return this;
        }

        public Builder temperature(Double temperature) {
            this.temperature = temperature;
            return this;
        }

        public Builder topP(Double topP) {
            this.topP = topP;
            return this;
        }

        public Builder topK(Integer topK) {
            this.topK = topK;
            return this;
        }

        public Builder minP(Double minP) {
            this.minP = minP;
            return this;
        }

        public Builder repetitionPenalty(Double repetitionPenalty) {
            this.repetitionPenalty = repetitionPenalty;
            return this;
        }

        public Builder seed(Long seed) {
            this.seed = seed;
            return this;
        }

        public Builder stop(List<String> stop) {
            this.stop = stop;
            return this;
        }

        public Builder kvMode(KvMode kvMode) {
            this.kvMode = kvMode;
            return this;
        }

        public GenerationOptions build() {
            return new GenerationOptions(maxTokens, temperature, topP, topK, minP, repetitionPenalty, seed, stop,
                    kvMode);
        }
    }
}
