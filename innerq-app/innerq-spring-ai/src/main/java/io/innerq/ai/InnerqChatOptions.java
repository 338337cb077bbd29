package io.innerq.ai;

import io.innerq.cache.KvMode;
import io.innerq.serving.GenerationOptions;
import org.springframework.ai.chat.prompt.ChatOptions;
import org.springframework.ai.chat.prompt.DefaultChatOptionsBuilder;

import java.util.List;
import java.util.Objects;

/**
 * Options of one InnerQ chat request; every field may be null, meaning "the default". Immutable: change a copy
 * through {@link #mutate()}. Values are checked when built, so a bad option fails where it is set, with its name.
 *
 * <p>Beyond Spring AI's portable options: {@code minP}, {@code seed}, {@code repetitionPenalty} and
 * {@code kvCacheMode} (a {@link KvMode} name such as {@code innerq-small}, {@code fp16} or {@code fp32}). InnerQ has
 * no frequency or presence penalty: they may only be null or 0 (use {@code repetitionPenalty}).
 */
public final class InnerqChatOptions implements ChatOptions {

    private final String model;
    private final Double temperature;
    private final Double topP;
    private final Integer topK;
    private final Double minP;
    private final Integer maxTokens;
    private final List<String> stopSequences;
    private final Long seed;
    private final Double repetitionPenalty;
    private final String kvCacheMode;
    private final GenerationOptions generation;

    private InnerqChatOptions(String model, Double frequencyPenalty, Double presencePenalty, Double temperature,
                              Double topP, Integer topK, Double minP, Integer maxTokens, List<String> stopSequences,
                              Long seed, Double repetitionPenalty, String kvCacheMode) {
        check(frequencyPenalty == null || frequencyPenalty == 0,
                "InnerQ has no frequency penalty (got " + frequencyPenalty + "): use repetitionPenalty");
        check(presencePenalty == null || presencePenalty == 0,
                "InnerQ has no presence penalty (got " + presencePenalty + "): use repetitionPenalty");
        // checks every value, and parses the cache mode once (its error says which names exist)
        this.generation = GenerationOptions.builder().maxTokens(maxTokens).temperature(temperature).topP(topP)
                .topK(topK).minP(minP).repetitionPenalty(repetitionPenalty).seed(seed).stop(stopSequences)
                .kvMode(kvCacheMode == null ? null : KvMode.parse(kvCacheMode)).build();
        this.model = model;
        this.temperature = temperature;
        this.topP = topP;
        this.topK = topK;
        this.minP = minP;
        this.maxTokens = maxTokens;
        this.stopSequences = stopSequences == null ? null : stopSequences.stream().distinct().toList();
        this.seed = seed;
        this.repetitionPenalty = repetitionPenalty;
        this.kvCacheMode = kvCacheMode;
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String getModel() {
        return model;
    }

    /** Always null: InnerQ has no frequency penalty. */
    @Override
    public Double getFrequencyPenalty() {
        return null;
    }

    @Override
    public Integer getMaxTokens() {
        return maxTokens;
    }

    /** Always null: InnerQ has no presence penalty. */
    @Override
    public Double getPresencePenalty() {
        return null;
    }

    @Override
    public List<String> getStopSequences() {
        return stopSequences;
    }

    @Override
    public Double getTemperature() {
        return temperature;
    }

    @Override
    public Integer getTopK() {
        return topK;
    }

    @Override
    public Double getTopP() {
        return topP;
    }

    /** Drop tokens less likely than this fraction of the most likely one; 0 disables. */
    public Double getMinP() {
        return minP;
    }

    /** Random seed for sampling; null for a fresh one per request. */
    public Long getSeed() {
        return seed;
    }

    /** Penalty on recently seen tokens (llama.cpp's repeat penalty); 1 disables. */
    public Double getRepetitionPenalty() {
        return repetitionPenalty;
    }

    /** How the request's KV cache is stored, a {@link KvMode} name. */
    public String getKvCacheMode() {
        return kvCacheMode;
    }

    /** These options as the engine takes them (the model aside). */
    public GenerationOptions toGenerationOptions() {
        return generation;
    }

    /** A builder holding these options, to change a copy. */
    @Override
    public Builder mutate() {
        return builder().model(model).temperature(temperature).topP(topP).topK(topK).minP(minP)
                .maxTokens(maxTokens).stopSequences(stopSequences).seed(seed).repetitionPenalty(repetitionPenalty)
                .kvCacheMode(kvCacheMode);
    }

    /** An equal, independent instance. */
    public InnerqChatOptions copy() {
        return mutate().build();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof InnerqChatOptions that && Objects.equals(model, that.model)
                && Objects.equals(temperature, that.temperature) && Objects.equals(topP, that.topP)
                && Objects.equals(topK, that.topK) && Objects.equals(minP, that.minP)
                && Objects.equals(maxTokens, that.maxTokens) && Objects.equals(stopSequences, that.stopSequences)
                && Objects.equals(seed, that.seed) && Objects.equals(repetitionPenalty, that.repetitionPenalty)
                && Objects.equals(kvCacheMode, that.kvCacheMode);
    }

    @Override
    public int hashCode() {
        return Objects.hash(model, temperature, topP, topK, minP, maxTokens, stopSequences, seed, repetitionPenalty,
                kvCacheMode);
    }

    @Override
    public String toString() {
        return "InnerqChatOptions[model=%s, temperature=%s, topP=%s, topK=%s, minP=%s, maxTokens=%s, stop=%s, seed=%s, repetitionPenalty=%s, kvCacheMode=%s]"
                .formatted(model, temperature, topP, topK, minP, maxTokens, stopSequences, seed, repetitionPenalty,
                        kvCacheMode);
    }

    /**
     * Builds {@link InnerqChatOptions}. {@link #combineWith} lays another builder's non-null values over this one's
     * (stop sequences are added), the way Spring AI merges a request's options over a model's defaults.
     */
    public static final class Builder extends DefaultChatOptionsBuilder<Builder> {

        private Double minP;
        private Long seed;
        private Double repetitionPenalty;
        private String kvCacheMode;

        public Builder minP(Double minP) {
            this.minP = minP;
            return this;
        }

        public Builder seed(Long seed) {
            this.seed = seed;
            return this;
        }

        public Builder repetitionPenalty(Double repetitionPenalty) {
            this.repetitionPenalty = repetitionPenalty;
            return this;
        }

        public Builder kvCacheMode(String kvCacheMode) {
            this.kvCacheMode = kvCacheMode;
            return this;
        }

        @Override
        public Builder combineWith(ChatOptions.Builder<?> other) {
            super.combineWith(other);
            if (other instanceof Builder that) {
                if (that.minP != null) {
                    minP = that.minP;
                }
                if (that.seed != null) {
                    seed = that.seed;
                }
                if (that.repetitionPenalty != null) {
                    repetitionPenalty = that.repetitionPenalty;
                }
                if (that.kvCacheMode != null) {
                    kvCacheMode = that.kvCacheMode;
                }
            }
            return this;
        }

        @Override
        public InnerqChatOptions build() {
            return new InnerqChatOptions(model, frequencyPenalty, presencePenalty, temperature, topP, topK, minP,
                    maxTokens, stopSequences, seed, repetitionPenalty, kvCacheMode);
        }
    }
}
