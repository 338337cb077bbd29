package io.innerq.engine;

import io.innerq.cache.KvMode;
import io.innerq.cache.ReferenceKvCaches;
import io.innerq.model.HostForward;
import io.innerq.model.LlamaModel;
import io.innerq.port.out.ForwardPort;
import io.innerq.sampling.SamplingParams;
import io.innerq.tensor.ScalarMatVec;
import io.innerq.testing.GgufEdit;
import io.innerq.testing.TestModels;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * A logit that is NaN or infinite ends that generation with a {@link NonFiniteLogitsException}, closes its cache,
 * and leaves the generator serving other prompts.
 */
class NonFiniteLogitsTests {

    /** Counts the sequences that are open. */
    static final class CountingForward implements ForwardPort {
        final ForwardPort inner;
        final AtomicInteger open = new AtomicInteger();

        CountingForward(ForwardPort inner) {
            this.inner = inner;
        }

        @Override
        public Sequence start(int capacity, KvMode mode) {
            Sequence s = inner.start(capacity, mode);
            open.incrementAndGet();
            return new Sequence() {
                public float[] prefill(int[] tokens, int start, int count) {
                    return s.prefill(tokens, start, count);
                }

                public float[] step(int token, int position, boolean computeLogits) {
                    return s.step(token, position, computeLogits);
                }

                public void endPrefill(int promptLength) {
                    s.endPrefill(promptLength);
                }

                public int capacity() {
                    return s.capacity();
                }

                public long kvBytes() {
                    return s.kvBytes();
                }

                public void close() {
                    open.decrementAndGet();
                    s.close();
                }
            };
        }

        @Override
        public String name() {
            return "counting " + inner.name();
        }
    }

    @Test
    void aNaNInOneEmbeddingRowFailsThePromptsThatUseItAndNoOther() throws IOException {
        // token 403 is " Once": "Once upon a time" is [1, 403, 407, 261, 378]; "Hello world" does not use it
        byte[] bytes = GgufEdit.of(TestModels.stories260K()).f32("token_embd.weight", 403 * 64 + 5, Float.NaN)
                .toBytes();
        try (LlamaModel model = LlamaModel.read("nan-row.gguf", new ByteArrayInputStream(bytes), bytes.length)) {
            var forward = new CountingForward(new HostForward(model, new ScalarMatVec(), new ReferenceKvCaches()));
            var generator = new Generator(model, forward);
            var sent = new StringBuilder();

            var e = catchThrowableOfType(NonFiniteLogitsException.class, () -> generator.generate(
                    GenerationRequest.of("Once upon a time", 10, SamplingParams.greedy()), text -> sent.append(text) != null));

            assertThat(e.position()).isEqualTo(4); // the logits after the prompt
            assertThat(e.value()).isNaN();
            assertThat(e.getMessage()).contains("nan-row.gguf", "computed a logit of NaN", "at position 4",
                    "--check-weights");
            assertThat(sent).isEmpty();
            assertThat(forward.open).as("the sequence and its cache are closed").hasValue(0);

            GenerationResult ok = generator.generate(GenerationRequest.of("Hello world", 5, SamplingParams.greedy()),
                    TokenSink.IGNORE);
            assertThat(ok.completionTokens()).isEqualTo(5);
            assertThat(ok.text()).isNotBlank();
            assertThat(forward.open).hasValue(0);
        }
    }

    @Test
    void aNaNReachedDuringDecodeEndsTheGenerationAfterWhatWasSent() throws IOException {
        byte[] bytes = GgufEdit.of(TestModels.stories260K()).f32("token_embd.weight", 403 * 64, Float.NaN).toBytes();
        try (LlamaModel model = LlamaModel.read("nan-row.gguf", new ByteArrayInputStream(bytes), bytes.length)) {
            var forward = new CountingForward(new HostForward(model, new ScalarMatVec(), new ReferenceKvCaches()));
            var generator = new Generator(model, forward);
            var sent = new StringBuilder();
            // from BOS alone, greedy decoding writes token 403 (" Once") first; the step that runs it gives NaN
            var e = catchThrowableOfType(NonFiniteLogitsException.class, () -> generator.generate(
                    GenerationRequest.of("", 10, SamplingParams.greedy()), text -> sent.append(text) != null));
            assertThat(e.position()).as("the step that ran token 403").isEqualTo(1);
            assertThat(sent.toString()).isEqualTo("Once");
            assertThat(forward.open).hasValue(0);
        }
    }
}
