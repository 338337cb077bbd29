package io.innerq.model;

import io.innerq.cache.ReferenceKvCaches;
import io.innerq.port.out.KvCache;
import io.innerq.port.out.KvCachePort.CacheGeometry;
import io.innerq.tensor.ScalarMatVec;
import io.innerq.testing.TestModels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The forward pass against the reference values of stories260K (../shared/models/README.md). */
class LlamaForwardTests {

    private static LlamaModel model;

    @BeforeAll
    static void load() throws IOException {
        model = LlamaModel.load(TestModels.stories260K());
    }

    @AfterAll
    static void close() {
        model.close();
    }

    private static KvCache cache(int capacity) {
        LlamaConfig c = model.config();
        return new ReferenceKvCaches().allocate(new CacheGeometry(c.layers(), c.heads(), c.kvHeads(), c.headDim()), capacity);
    }

    @Test
    void readsTheConfiguration() {
        LlamaConfig c = model.config();
        assertThat(c.dim()).isEqualTo(64);
        assertThat(c.layers()).isEqualTo(5);
        assertThat(c.heads()).isEqualTo(8);
        assertThat(c.kvHeads()).isEqualTo(4);
        assertThat(c.headDim()).isEqualTo(8);
        assertThat(c.ffnDim()).isEqualTo(172);
        assertThat(c.vocabularySize()).isEqualTo(512);
        assertThat(model.weights().tiedOutput()).isFalse();
    }

    @Test
    void logitsAfterBosMatchTheReference() {
        var forward = new LlamaForward(model, new ScalarMatVec());
        try (KvCache cache = cache(8)) {
            float[] logits = forward.step(cache, 1, 0, true);
            float[] expected = {-6.222915f, 8.404343f, -6.22374f, -6.222545f, -6.221954f, -6.222878f};
            for (int i = 0; i < expected.length; i++) {
                assertThat(logits[i]).as("logit %d", i).isCloseTo(expected[i], within(1e-4f));
            }
            int argmax = 0;
            for (int i = 1; i < logits.length; i++) {
                if (logits[i] > logits[argmax]) {
                    argmax = i;
                }
            }
            assertThat(argmax).isEqualTo(403);
        }
    }

    @Test
    void nextTokenDistributionAfterThePromptMatchesTheReference() {
        var forward = new LlamaForward(model, new ScalarMatVec());
        int[] prompt = model.tokenizer().encode("Once upon a time", true, false);
        assertThat(prompt).containsExactly(1, 403, 407, 261, 378);
        try (KvCache cache = cache(8)) {
            float[] logits = null;
            for (int pos = 0; pos < prompt.length; pos++) {
                logits = forward.step(cache, prompt[pos], pos, pos == prompt.length - 1);
            }
            double max = Double.NEGATIVE_INFINITY;
            for (float l : logits) {
                max = Math.max(max, l);
            }
            double sum = 0;
            for (float l : logits) {
                sum += Math.exp(l - max);
            }
            var tok = model.tokenizer();
            assertThat(probability(logits, max, sum, tokenOf(",")))
                    .isCloseTo(0.9688, within(1e-4));
            assertThat(probability(logits, max, sum, tokenOf(" there"))).isCloseTo(0.0287, within(1e-4));
            assertThat(probability(logits, max, sum, tokenOf(" in"))).isCloseTo(0.0003, within(1e-4));
            assertThat(tok.decode(tokenOf(" there"))).isEqualTo(" there");
        }
    }

    private static double probability(float[] logits, double max, double sum, int token) {
        return Math.exp(logits[token] - max) / sum;
    }

    /** The id of the vocabulary piece whose text is {@code text} (searched from the end: byte pieces come first). */
    private static int tokenOf(String text) {
        var tok = model.tokenizer();
        for (int i = tok.vocabularySize() - 1; i >= 0; i--) {
            if (new String(tok.tokenBytes(i), java.nio.charset.StandardCharsets.UTF_8).equals(text)) {
                return i;
            }
        }
        throw new AssertionError("no piece '" + text + "'");
    }
}
