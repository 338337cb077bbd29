package io.innerq.model;

import io.innerq.cache.KvMode;
import io.innerq.engine.GenerationRequest;
import io.innerq.engine.Generator;
import io.innerq.engine.TokenSink;
import io.innerq.cache.ReferenceKvCaches;
import io.innerq.port.out.ForwardPort;
import io.innerq.sampling.SamplingParams;
import io.innerq.tensor.ScalarMatVec;
import io.innerq.testing.TestModels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The whole forward pass, for any {@link ForwardPort}: stories260K's reference logits and greedy text, batched prefill
 * equal to token-by-token steps for every cache mode, and the larger trained model's greedy text equal to the scalar
 * reference ports' (fp32 and fp16 caches). Ships in the domain test-jar; each backend extends it. Tolerance: 1e-4 on
 * the reference logits (fp32 sums in another order); prefill against steps: {@link #batchedPrefillTolerance()}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class ForwardContractTests {

    static final String REFERENCE = "Once upon a time, there was a little girl named Lily. She loved to play outside "
            + "in the park. One day, she saw a big, red ball. She wanted to play with it, but it was too high.\nLily";

    private LlamaModel model;

    /** The backend's forward pass over {@code model}. */
    protected abstract ForwardPort forward(LlamaModel model);

    @BeforeAll
    void load() throws IOException {
        model = LlamaModel.load(TestModels.stories260K());
    }

    @AfterAll
    void close() {
        model.close();
    }

    @Test
    public void logitsAfterBosMatchTheReference() {
        try (var sequence = forward(model).start(4, KvMode.FP32)) {
            float[] logits = sequence.step(1, 0, true);
            float[] expected = {-6.222915f, 8.404343f, -6.22374f, -6.222545f, -6.221954f, -6.222878f};
            for (int i = 0; i < expected.length; i++) {
                assertThat(logits[i]).as("logit %d", i).isCloseTo(expected[i], within(1e-4f));
            }
        }
    }

    @Test
    public void greedyTextMatchesTheReference() {
        var result = new Generator(model, forward(model))
                .generate(GenerationRequest.of("Once upon a time", 60, SamplingParams.greedy()), TokenSink.IGNORE);
        assertThat("Once upon a time" + result.text()).isEqualTo(REFERENCE);
    }

    protected List<KvMode> modes() {
        return KvMode.all();
    }

    /**
     * How far a batched prefill's logits may be from token-by-token steps'. 0 for a backend whose batched products
     * and attention run the same operations in the same order as its steps: then both paths are the same arithmetic.
     * Otherwise no float bound covers every mode: a cache that rounds on store (fp16, q8_0) turns a last-bit
     * difference in a key into a different code now and then, a whole quantization step. The default, 1e-4, is the
     * allowance of backends that do not promise the same order.
     */
    protected float batchedPrefillTolerance() {
        return 1e-4f;
    }

    @ParameterizedTest
    @MethodSource("modes")
    public void batchedPrefillEqualsTokenByTokenSteps(KvMode mode) {
        int[] prompt = model.tokenizer().encode(
                "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. "
                        + "One day, she saw a big, red ball. She wanted to play with it, but it was too high. "
                        + "Lily asked her mom for help. Her mom smiled and said yes.", true, false);
        assertThat(prompt.length).isGreaterThan(LlamaForward.PREFILL_BATCH + 1);
        ForwardPort port = forward(model);
        try (var a = port.start(prompt.length + 8, mode);
             var b = port.start(prompt.length + 8, mode)) {
            float[] la = a.prefill(prompt, 0, prompt.length).clone();
            float[] lb = null;
            for (int pos = 0; pos < prompt.length; pos++) {
                lb = b.step(prompt[pos], pos, pos == prompt.length - 1);
            }
            float tolerance = batchedPrefillTolerance();
            assertThat(la).as("last prompt token's logits, %s", mode).containsExactly(lb, within(tolerance));
            a.endPrefill(prompt.length);
            b.endPrefill(prompt.length);
            int next = 403;
            for (int pos = prompt.length; pos < prompt.length + 8; pos++) {
                assertThat(a.step(next, pos, true).clone())
                        .as("decode at %d, %s", pos, mode).containsExactly(b.step(next, pos, true), within(tolerance));
            }
        }
    }

    @Test
    public void largerModelsGreedyTextEqualsTheReferencePorts() throws IOException {
        try (LlamaModel larger = LlamaModel.load(TestModels.requireShared(TestModels.STORYBOOKS))) {
            for (KvMode mode : List.of(KvMode.FP32, KvMode.FP16)) {
                var request = GenerationRequest.of("Once upon a time", 40, SamplingParams.greedy()).withKvMode(mode);
                String expected = new Generator(larger, new ScalarMatVec(), new ReferenceKvCaches())
                        .generate(request, TokenSink.IGNORE).text();
                String actual = new Generator(larger, forward(larger)).generate(request, TokenSink.IGNORE).text();
                assertThat(actual).as("greedy text with the %s cache", mode.name()).isEqualTo(expected);
            }
        }
    }
}
