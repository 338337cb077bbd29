package io.innerq.model;

import io.innerq.cache.KvMode;
import io.innerq.engine.GenerationRequest;
import io.innerq.engine.Generator;
import io.innerq.engine.TokenSink;
import io.innerq.port.out.KvCache;
import io.innerq.port.out.KvCachePort;
import io.innerq.port.out.KvCachePort.CacheGeometry;
import io.innerq.port.out.MatVecPort;
import io.innerq.sampling.SamplingParams;
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
 * The whole forward pass on stories260K, for any pair of ports: the reference logits, the reference greedy text, and
 * batched prefill equal to token-by-token steps for every cache mode. Ships in the domain test-jar; each backend
 * extends it. Tolerance: 1e-4 on logits (fp32 sums in another order).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class ForwardContractTests {

    static final String REFERENCE = "Once upon a time, there was a little girl named Lily. She loved to play outside "
            + "in the park. One day, she saw a big, red ball. She wanted to play with it, but it was too high.\nLily";

    private LlamaModel model;

    protected abstract MatVecPort ops();

    protected abstract KvCachePort caches();

    @BeforeAll
    void load() throws IOException {
        model = LlamaModel.load(TestModels.stories260K());
    }

    @AfterAll
    void close() {
        model.close();
    }

    private CacheGeometry geometry() {
        LlamaConfig c = model.config();
        return new CacheGeometry(c.layers(), c.heads(), c.kvHeads(), c.headDim());
    }

    @Test
    public void logitsAfterBosMatchTheReference() {
        try (KvCache cache = caches().allocate(geometry(), 4, KvMode.FP32)) {
            float[] logits = new LlamaForward(model, ops()).step(cache, 1, 0, true);
            float[] expected = {-6.222915f, 8.404343f, -6.22374f, -6.222545f, -6.221954f, -6.222878f};
            for (int i = 0; i < expected.length; i++) {
                assertThat(logits[i]).as("logit %d", i).isCloseTo(expected[i], within(1e-4f));
            }
        }
    }

    @Test
    public void greedyTextMatchesTheReference() {
        var result = new Generator(model, ops(), caches())
                .generate(GenerationRequest.of("Once upon a time", 60, SamplingParams.greedy()), TokenSink.IGNORE);
        assertThat("Once upon a time" + result.text()).isEqualTo(REFERENCE);
    }

    protected List<KvMode> modes() {
        return KvMode.all();
    }

    @ParameterizedTest
    @MethodSource("modes")
    public void batchedPrefillEqualsTokenByTokenSteps(KvMode mode) {
        int[] prompt = model.tokenizer().encode(
                "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. "
                        + "One day, she saw a big, red ball. She wanted to play with it, but it was too high. "
                        + "Lily asked her mom for help. Her mom smiled and said yes.", true, false);
        assertThat(prompt.length).isGreaterThan(LlamaForward.PREFILL_BATCH + 1);
        try (KvCache batched = caches().allocate(geometry(), prompt.length + 8, mode);
             KvCache stepped = caches().allocate(geometry(), prompt.length + 8, mode)) {
            var a = new LlamaForward(model, ops());
            var b = new LlamaForward(model, ops());
            float[] la = a.prefill(batched, prompt, 0, prompt.length).clone();
            float[] lb = null;
            for (int pos = 0; pos < prompt.length; pos++) {
                lb = b.step(stepped, prompt[pos], pos, pos == prompt.length - 1);
            }
            assertThat(la).as("last prompt token's logits, %s", mode).containsExactly(lb, within(1e-4f));
            a.endPrefill(batched, prompt.length);
            b.endPrefill(stepped, prompt.length);
            int next = 403;
            for (int pos = prompt.length; pos < prompt.length + 8; pos++) {
                assertThat(a.step(batched, next, pos, true).clone())
                        .as("decode at %d, %s", pos, mode).containsExactly(b.step(stepped, next, pos, true), within(1e-4f));
            }
        }
    }
}
