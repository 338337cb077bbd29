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
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * The whole forward pass, for any {@link ForwardPort}: stories260K's reference logits and greedy text, batched prefill
 * equal to token-by-token steps for every cache mode, and the larger trained model's greedy text equal to the scalar
 * reference ports' (fp32 and fp16 caches), and a batched step ({@link ForwardPort#batch}) giving each sequence its
 * logits alone while sequences of different lengths and modes join and leave. Ships in the domain test-jar; each
 * backend extends it. Tolerance: 1e-4 on the reference logits (fp32 sums in another order); prefill against steps:
 * {@link #batchedPrefillTolerance()}; a batch against each sequence alone: {@link #batchedStepTolerance()}.
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

    /**
     * How far a sequence's logits in a batched step may be from its logits alone (its whole prompt in one
     * {@code prefill}, then one {@code step} per token). 0 for a backend whose batched step runs each token's
     * operations as its steps do and whose prompt pieces give the bits of a whole prompt; the default, 1e-4, as for
     * {@link #batchedPrefillTolerance()}.
     */
    protected float batchedStepTolerance() {
        return 1e-4f;
    }

    /** Step budget of the batched tests: small, so that prompts run in several pieces beside decoding sequences. */
    private static final int STEP_TOKENS = 12;

    /**
     * A sequence of the batched tests: its prompt, cache mode, the step it joins at, the decode steps it runs
     * before it leaves; and its logits alone, for its prompt's last token and each decode step.
     */
    private record Planned(int[] prompt, KvMode mode, int joinsAt, int decodeSteps, int[] tokens,
                           List<float[]> alone) {
    }

    /** Runs {@code prompt} alone, then {@code decodeSteps} greedy steps; keeps every logits row and the tokens. */
    private static Planned alone(LlamaModel model, ForwardPort port, String text, KvMode mode, int joinsAt,
                                 int decodeSteps) {
        int[] prompt = model.tokenizer().encode(text, true, false);
        int[] tokens = java.util.Arrays.copyOf(prompt, prompt.length + decodeSteps + 1);
        var logits = new ArrayList<float[]>();
        try (var sequence = port.start(tokens.length, mode)) {
            float[] row = sequence.prefill(prompt, 0, prompt.length).clone();
            sequence.endPrefill(prompt.length);
            logits.add(row);
            for (int d = 0; d < decodeSteps; d++) {
                int position = prompt.length + d;
                tokens[position] = argmax(row);
                row = sequence.step(tokens[position], position, true).clone();
                logits.add(row);
            }
        }
        return new Planned(prompt, mode, joinsAt, decodeSteps, tokens, logits);
    }

    private static int argmax(float[] row) {
        int best = 0;
        for (int i = 1; i < row.length; i++) {
            if (row[i] > row[best]) {
                best = i;
            }
        }
        return best;
    }

    /**
     * Runs the planned sequences through one {@link ForwardPort.Batch}: each joins at its step, reads its prompt in
     * pieces that fit beside the decoding sequences' tokens, decodes the tokens it decoded alone and leaves; checks
     * every logits row against the sequence's own run.
     */
    private void runBatched(ForwardPort port, List<Planned> plan) {
        float tolerance = batchedStepTolerance();
        ForwardPort.Batch batch = port.batch(STEP_TOKENS);
        assertThat(batch.maxTokens()).isEqualTo(STEP_TOKENS);
        int n = plan.size();
        var sequences = new ForwardPort.Sequence[n];
        int[] next = new int[n];      // position of each sequence's next token
        int[] checked = new int[n];   // logits rows checked so far
        boolean[] left = new boolean[n];
        int maxPieces = 0;
        try {
            for (int step = 0; !allTrue(left); step++) {
                var spans = new ArrayList<ForwardPort.Span>();
                var in = new ArrayList<Integer>();
                int budget = STEP_TOKENS;
                for (int i = 0; i < n; i++) { // decoding sequences first: one token each
                    Planned p = plan.get(i);
                    if (sequences[i] != null && next[i] >= p.prompt().length) {
                        spans.add(new ForwardPort.Span(sequences[i], p.tokens(), next[i], 1));
                        in.add(i);
                        budget--;
                    }
                }
                for (int i = 0; i < n; i++) { // then prompts, in the rest of the step
                    Planned p = plan.get(i);
                    if (sequences[i] == null && !left[i] && step >= p.joinsAt()) {
                        sequences[i] = port.start(p.tokens().length, p.mode());
                    }
                    if (sequences[i] != null && next[i] < p.prompt().length && budget > 0) {
                        int count = Math.min(budget, p.prompt().length - next[i]);
                        spans.add(new ForwardPort.Span(sequences[i], p.tokens(), next[i], count));
                        in.add(i);
                        budget -= count;
                    }
                }
                if (spans.isEmpty()) {
                    continue;
                }
                maxPieces = Math.max(maxPieces, spans.size());
                float[][] logits = batch.run(spans);
                for (int s = 0; s < spans.size(); s++) {
                    int i = in.get(s);
                    Planned p = plan.get(i);
                    next[i] += spans.get(s).count();
                    if (next[i] < p.prompt().length) {
                        continue; // a piece of the prompt: no logits to check
                    }
                    if (next[i] == p.prompt().length) {
                        sequences[i].endPrefill(p.prompt().length);
                    }
                    assertThat(logits[s]).as("sequence %d (%s, prompt of %d), logits row %d at step %d", i,
                                    p.mode().name(), p.prompt().length, checked[i], step)
                            .containsExactly(p.alone().get(checked[i]), within(tolerance));
                    if (++checked[i] > p.decodeSteps()) { // the last decode step ran: the sequence leaves
                        sequences[i].close();
                        sequences[i] = null;
                        left[i] = true;
                    }
                }
            }
        } finally {
            for (var sequence : sequences) {
                if (sequence != null) {
                    sequence.close();
                }
            }
        }
        for (int i = 0; i < n; i++) {
            assertThat(checked[i]).as("logits rows checked of sequence %d", i).isEqualTo(plan.get(i).decodeSteps() + 1);
        }
        assertThat(maxPieces).as("sequences in the fullest step").isGreaterThanOrEqualTo(3);
    }

    private static boolean allTrue(boolean[] flags) {
        for (boolean f : flags) {
            if (!f) {
                return false;
            }
        }
        return true;
    }

    /**
     * Prompts of 5, 42 and 14 tokens (the 512-piece tokenizer of stories260K and storybooks); the long one joins
     * while the first decodes and leaves first, the last joins while the long one reads its prompt.
     */
    private static List<Planned> mixedLengths(LlamaModel model, ForwardPort port, List<KvMode> modes) {
        return List.of(
                alone(model, port, "Once upon a time", modes.get(0), 0, 14),
                alone(model, port, "Once upon a time, there was a little girl named Lily. She loved to play outside "
                        + "in the park. One day, she saw a big ball.", modes.get(1 % modes.size()), 2, 6),
                alone(model, port, "The cat sat on the mat and looked", modes.get(2 % modes.size()), 3, 10));
    }

    @ParameterizedTest
    @MethodSource("modes")
    public void aBatchedStepGivesEachSequenceItsLogitsAlone(KvMode mode) {
        ForwardPort port = forward(model);
        List<Planned> plan = mixedLengths(model, port, List.of(mode));
        assertThat(plan).extracting(p -> p.prompt().length).containsExactly(5, 42, 14);
        runBatched(port, plan);
    }

    @Test
    public void sequencesOfDifferentCacheModesShareABatchedStep() {
        ForwardPort port = forward(model);
        List<KvMode> modes = modes();
        for (int first = 0; first < modes.size(); first += 3) {
            List<KvMode> three = List.of(modes.get(first), modes.get((first + 1) % modes.size()),
                    modes.get((first + 2) % modes.size()));
            runBatched(port, mixedLengths(model, port, three));
        }
    }

    /** The cache modes {@link #largerModelsBatchedStepGivesEachSequenceItsLogitsAlone} runs: fp32 unless overridden. */
    protected List<KvMode> largerModelBatchModes() {
        return List.of(KvMode.FP32);
    }

    @Test
    public void largerModelsBatchedStepGivesEachSequenceItsLogitsAlone() throws IOException {
        try (LlamaModel larger = LlamaModel.load(TestModels.requireShared(TestModels.STORYBOOKS))) {
            ForwardPort port = forward(larger);
            for (KvMode mode : largerModelBatchModes()) {
                runBatched(port, mixedLengths(larger, port, List.of(mode)));
            }
        }
    }

    @Test
    public void aBatchedStepRefusesMoreTokensThanItHoldsAndASequenceTwice() {
        ForwardPort port = forward(model);
        int[] tokens = model.tokenizer().encode("Once upon a time, there was a little girl", true, false);
        try (var a = port.start(tokens.length, KvMode.FP32)) {
            ForwardPort.Batch batch = port.batch(4);
            assertThatThrownBy(() -> batch.run(List.of(new ForwardPort.Span(a, tokens, 0, 5))))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("holds 5 tokens, more than its 4");
            assertThatThrownBy(() -> batch.run(List.of(new ForwardPort.Span(a, tokens, 0, 1),
                    new ForwardPort.Span(a, tokens, 1, 1))))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("name the same sequence");
        }
        assertThatThrownBy(() -> new ForwardPort.Span(null, tokens, 0, 1)).isInstanceOf(IllegalArgumentException.class);
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
