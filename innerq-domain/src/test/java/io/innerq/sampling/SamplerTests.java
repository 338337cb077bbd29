package io.innerq.sampling;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class SamplerTests {

    private static final int[] NO_HISTORY = new int[0];

    @Test
    void greedyTakesTheArgmax() {
        var sampler = new Sampler(SamplingParams.greedy(), 5);
        assertThat(sampler.sample(new float[]{0.1f, 3f, -2f, 2.9f, 0f}, NO_HISTORY, 0)).isEqualTo(1);
    }

    @Test
    void topKOneIsGreedyAtAnyTemperature() {
        var params = SamplingParams.defaults(7).withTemperature(5f).withTopK(1).withMinP(0f);
        var sampler = new Sampler(params, 6);
        for (int i = 0; i < 50; i++) {
            assertThat(sampler.sample(new float[]{1f, 2f, 0f, 4f, 3.9f, -1f}, NO_HISTORY, 0)).isEqualTo(3);
        }
    }

    @Test
    void sameSeedSameTokens() {
        float[] logits = {1f, 1.2f, 0.8f, 1.1f, 0.9f, 1.05f};
        var a = new Sampler(SamplingParams.defaults(42).withTopK(0).withMinP(0f).withTopP(1f).withTemperature(1f), 6);
        var b = new Sampler(SamplingParams.defaults(42).withTopK(0).withMinP(0f).withTopP(1f).withTemperature(1f), 6);
        for (int i = 0; i < 100; i++) {
            assertThat(a.sample(logits.clone(), NO_HISTORY, 0)).isEqualTo(b.sample(logits.clone(), NO_HISTORY, 0));
        }
    }

    @Test
    void temperatureOneFollowsTheSoftmax() {
        float[] logits = {0f, (float) Math.log(3), (float) Math.log(6)}; // probabilities 0.1, 0.3, 0.6
        var sampler = new Sampler(new SamplingParams(1f, 0, 1f, 0f, 1f, 0, 1), 3);
        int[] counts = new int[3];
        int n = 60_000;
        for (int i = 0; i < n; i++) {
            counts[sampler.sample(logits, NO_HISTORY, 0)]++;
        }
        assertThat(counts[0] / (double) n).isCloseTo(0.1, within(0.01));
        assertThat(counts[1] / (double) n).isCloseTo(0.3, within(0.01));
        assertThat(counts[2] / (double) n).isCloseTo(0.6, within(0.01));
    }

    @Test
    void topPKeepsTheSmallestSetReachingP() {
        float[] logits = {0f, (float) Math.log(3), (float) Math.log(6)}; // 0.1, 0.3, 0.6
        var sampler = new Sampler(new SamplingParams(1f, 0, 0.85f, 0f, 1f, 0, 3), 3);
        Map<Integer, Integer> seen = new HashMap<>();
        for (int i = 0; i < 5_000; i++) {
            seen.merge(sampler.sample(logits, NO_HISTORY, 0), 1, Integer::sum);
        }
        assertThat(seen).containsOnlyKeys(1, 2); // 0.6 + 0.3 >= 0.85; token 0 is outside the nucleus
        assertThat(seen.get(2) / 5000.0).isCloseTo(2 / 3.0, within(0.03));
    }

    @Test
    void minPDropsTokensFarBelowTheBest() {
        float[] logits = {0f, (float) Math.log(3), (float) Math.log(6)}; // relative to best: 1/6, 1/2, 1
        var sampler = new Sampler(new SamplingParams(1f, 0, 1f, 0.2f, 1f, 0, 5), 3);
        for (int i = 0; i < 2_000; i++) {
            assertThat(sampler.sample(logits, NO_HISTORY, 0)).isNotZero();
        }
    }

    @Test
    void repetitionPenaltyMakesSeenTokensLessLikely() {
        float[] logits = {2f, 1.9f, -1f, -1.1f};
        var sampler = new Sampler(SamplingParams.greedy().withRepetitionPenalty(1.5f), 4);
        assertThat(sampler.sample(logits, new int[]{0, 0, 3}, 3)).isEqualTo(1);
        assertThat(logits[0]).isEqualTo(2f / 1.5f);    // penalized once, though seen twice
        assertThat(logits[3]).isEqualTo(-1.1f * 1.5f); // negative logits are multiplied
        assertThat(logits[2]).isEqualTo(-1f);
    }

    @Test
    void repetitionWindowLimitsThePenalty() {
        float[] logits = {2f, 1.9f};
        var params = new SamplingParams(0f, 0, 1f, 0f, 2f, 1, 0);
        assertThat(new Sampler(params, 2).sample(logits, new int[]{0, 1}, 2)).isZero(); // only token 1 is in the window
    }

    @Test
    void invalidParametersAreRejectedWithTheirName() {
        assertThatThrownBy(() -> new SamplingParams(-1f, 0, 1f, 0f, 1f, 0, 0)).hasMessageContaining("temperature");
        assertThatThrownBy(() -> new SamplingParams(1f, 0, 0f, 0f, 1f, 0, 0)).hasMessageContaining("top-p");
        assertThatThrownBy(() -> new SamplingParams(1f, -1, 1f, 0f, 1f, 0, 0)).hasMessageContaining("top-k");
        assertThatThrownBy(() -> new SamplingParams(1f, 0, 1f, 1f, 1f, 0, 0)).hasMessageContaining("min-p");
        assertThatThrownBy(() -> new SamplingParams(1f, 0, 1f, 0f, 0f, 0, 0)).hasMessageContaining("repetition");
    }

    @Test
    void topKSelectionHandlesManyEqualLogits() {
        float[] logits = new float[50_000];
        logits[12345] = 1f;
        var sampler = new Sampler(new SamplingParams(1f, 40, 1f, 0.5f, 1f, 0, 9), logits.length);
        assertThat(sampler.sample(logits, NO_HISTORY, 0)).isEqualTo(12345);
    }
}
