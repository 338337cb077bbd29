package io.innerq.engine;

import io.innerq.cache.ReferenceKvCaches;
import io.innerq.model.LlamaModel;
import io.innerq.sampling.SamplingParams;
import io.innerq.tensor.ScalarMatVec;
import io.innerq.testing.TestModels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** End to end on stories260K with the scalar reference ports. */
class GeneratorTests {

    /**
     * The reference greedy text (../shared/models/README.md): 64 positions as llama2.c counts them, i.e. 64 forward
     * steps from BOS; the 5 prompt tokens are followed by 60 generated ones.
     */
    static final String REFERENCE = "Once upon a time, there was a little girl named Lily. She loved to play outside "
            + "in the park. One day, she saw a big, red ball. She wanted to play with it, but it was too high.\nLily";

    private static LlamaModel model;
    private static Generator generator;

    @BeforeAll
    static void load() throws IOException {
        model = LlamaModel.load(TestModels.stories260K());
        generator = new Generator(model, new ScalarMatVec(), new ReferenceKvCaches());
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @Test
    void greedyTextMatchesTheReferenceExactly() {
        var chunks = new ArrayList<String>();
        var result = generator.generate(GenerationRequest.of("Once upon a time", 60, SamplingParams.greedy()),
                text -> chunks.add(text));
        assertThat("Once upon a time" + result.text()).isEqualTo(REFERENCE);
        assertThat(String.join("", chunks)).isEqualTo(result.text());
        assertThat(result.promptTokens()).isEqualTo(5);
        assertThat(result.completionTokens()).isEqualTo(60);
        assertThat(result.finishReason()).isEqualTo(FinishReason.LENGTH);
    }

    @Test
    void stopStringEndsGenerationAndIsNotEmitted() {
        var request = GenerationRequest.of("Once upon a time", 59, SamplingParams.greedy())
                .withStopStrings(List.of("Lily."));
        var result = generator.generate(request, TokenSink.IGNORE);
        assertThat(result.text()).isEqualTo(", there was a little girl named ");
        assertThat(result.finishReason()).isEqualTo(FinishReason.STOP);
    }

    @Test
    void sinkCanCancel() {
        var chunks = new ArrayList<String>();
        var result = generator.generate(GenerationRequest.of("Once upon a time", 50, SamplingParams.greedy()),
                text -> chunks.add(text) && chunks.size() < 3);
        assertThat(result.finishReason()).isEqualTo(FinishReason.CANCELLED);
        assertThat(result.completionTokens()).isEqualTo(3);
        assertThat(result.text()).isEqualTo(", there was");
    }

    @Test
    void seededSamplingIsReproducible() {
        var request = GenerationRequest.of("Once upon a time", 30, SamplingParams.defaults(1234));
        String a = generator.generate(request, TokenSink.IGNORE).text();
        String b = generator.generate(request, TokenSink.IGNORE).text();
        assertThat(a).isEqualTo(b).isNotEmpty();
        String c = generator.generate(GenerationRequest.of("Once upon a time", 30, SamplingParams.defaults(99)),
                TokenSink.IGNORE).text();
        assertThat(c).isNotEqualTo(a);
    }

    @Test
    void promptPlusMaxTokensBeyondTheContextIsAClearError() {
        int context = model.config().contextLength();
        assertThatThrownBy(() -> generator.generate(
                GenerationRequest.of("Once upon a time", context, SamplingParams.greedy()), TokenSink.IGNORE))
                .isInstanceOf(ContextLengthExceededException.class)
                .hasMessageContaining("5 tokens")
                .hasMessageContaining("context holds " + context)
                .hasMessageContaining("at most " + (context - 5));
    }

    @Test
    void aPromptLongerThanTheContextIsAClearError() {
        String longPrompt = "Once upon a time ".repeat(model.config().contextLength() / 3);
        assertThatThrownBy(() -> generator.generate(
                GenerationRequest.of(longPrompt, GenerationRequest.UNTIL_CONTEXT_ENDS, SamplingParams.greedy()),
                TokenSink.IGNORE))
                .isInstanceOf(ContextLengthExceededException.class)
                .hasMessageContaining("shorten the prompt");
    }

    @Test
    void zeroMaxTokensGeneratesNothing() {
        var result = generator.generate(GenerationRequest.of("Once upon a time", 0, SamplingParams.greedy()),
                TokenSink.IGNORE);
        assertThat(result.text()).isEmpty();
        assertThat(result.completionTokens()).isZero();
    }

    @Test
    void aSinkThatCancelsDuringALongPromptStopsItBetweenChunks() {
        String prompt = "Once upon a time, there was a little girl named Lily. ".repeat(60);
        int tokens = model.tokenizer().encode(prompt, true, false).length;
        assertThat(tokens).isGreaterThan(2 * Generator.PROMPT_CHUNK);
        var checks = new java.util.concurrent.atomic.AtomicInteger();
        var result = generator.generate(GenerationRequest.of(prompt, 10, SamplingParams.greedy()), new TokenSink() {
            @Override
            public boolean accept(String text) {
                throw new AssertionError("no text may come from a cancelled prompt, got " + text);
            }

            @Override
            public boolean cancelled() {
                return checks.incrementAndGet() > 1; // after the first chunk
            }
        });
        assertThat(result.finishReason()).isEqualTo(FinishReason.CANCELLED);
        assertThat(result.completionTokens()).isZero();
        assertThat(result.text()).isEmpty();
        assertThat(checks.get()).isEqualTo(2);
    }
}
