package io.innerq.cpu;

import io.innerq.cache.KvMode;
import io.innerq.model.ForwardContractTests;
import io.innerq.model.HostForward;
import io.innerq.model.LlamaModel;
import io.innerq.port.out.ForwardPort;
import io.innerq.port.out.MatVecPort;
import io.innerq.tensor.ScalarMatVec;
import io.innerq.tensor.Tensor;
import io.innerq.testing.TestModels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The forward contract on the CPU adapter: Vector API products on two threads, vectorized caches. */
class VectorForwardTests extends ForwardContractTests {

    private final VectorMatVec ops = new VectorMatVec(2);
    private final VectorKvCaches caches = new VectorKvCaches();

    @Override
    protected ForwardPort forward(LlamaModel model) {
        return new HostForward(model, ops, caches);
    }

    /**
     * Exact: batched products equal matVec bit for bit ({@link BatchKernels}) and attention gives the same bits in
     * every JIT tier, so a prompt's batches and its token steps are the same arithmetic.
     */
    @Override
    protected float batchedPrefillTolerance() {
        return 0f;
    }

    /**
     * Exact, for the same reasons: a token's products and attention in a batched step are those of its step alone,
     * whatever other sequences, lengths and cache modes share the step.
     */
    @Override
    protected float batchedStepTolerance() {
        return 0f;
    }

    /** Every mode: head_dim 128 gives the quantized modes whole groups of 32 channels. */
    @Override
    protected List<KvMode> largerModelBatchModes() {
        return modes();
    }

    @AfterAll
    void stop() {
        ops.close();
    }

    /**
     * Every product of a prompt (batched) and of decode steps on the trained models, against the scalar reference on
     * the same activations, within {@link SummationBound}.
     */
    @Test
    void everyProductOfAForwardPassIsWithinTheSummationBoundOfTheScalarOne() throws IOException {
        checkEveryProduct(TestModels.stories260K());
    }

    @Test
    void everyProductOfTheHeadDim128ModelIsWithinTheSummationBoundOfTheScalarOne() throws IOException {
        checkEveryProduct(TestModels.requireShared(TestModels.STORYBOOKS));
    }

    private void checkEveryProduct(Path file) throws IOException {
        try (LlamaModel model = LlamaModel.load(file)) {
            var checked = new CheckedMatVec(ops);
            int[] prompt = model.tokenizer().encode("Once upon a time, there was a little girl", true, false);
            try (var sequence = new HostForward(model, checked, caches).start(prompt.length + 4, KvMode.FP32)) {
                sequence.prefill(prompt, 0, prompt.length);
                sequence.endPrefill(prompt.length);
                for (int pos = prompt.length; pos < prompt.length + 4; pos++) {
                    sequence.step(403, pos, true);
                }
            }
            assertThat(checked.rows).as("rows checked in %s", file.getFileName()).isGreaterThan(10_000);
        }
    }

    /** Runs each product on the vector backend, checks every row against {@link ScalarMatVec}'s. */
    private static final class CheckedMatVec implements MatVecPort {
        private final MatVecPort vector;
        private final ScalarMatVec scalar = new ScalarMatVec();
        long rows;

        CheckedMatVec(MatVecPort vector) {
            this.vector = vector;
        }

        @Override
        public void matVec(Tensor w, float[] x, float[] out) {
            vector.matVec(w, x, out);
            check(w, x, out);
        }

        @Override
        public void matMul(Tensor w, float[][] xs, float[][] outs, int n) {
            vector.matMul(w, xs, outs, n);
            for (int i = 0; i < n; i++) {
                check(w, xs[i], outs[i]);
            }
        }

        private void check(Tensor w, float[] x, float[] out) {
            float[] expected = new float[w.rows()];
            scalar.matVec(w, x, expected);
            float[] bounds = SummationBound.rows(w, x);
            for (int r = 0; r < w.rows(); r++) {
                assertThat(out[r]).as("%s row %d", w.name(), r).isCloseTo(expected[r], within(bounds[r]));
            }
            rows += w.rows();
        }

        @Override
        public String name() {
            return "checked " + vector.name();
        }
    }
}
