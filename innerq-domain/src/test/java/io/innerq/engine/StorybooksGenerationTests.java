package io.innerq.engine;

import io.innerq.cache.ReferenceKvCaches;
import io.innerq.model.LlamaModel;
import io.innerq.sampling.SamplingParams;
import io.innerq.tensor.ScalarMatVec;
import io.innerq.testing.TestModels;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** The larger trained model (F16 matrices, head_dim 128) loads and generates its reference text. */
class StorybooksGenerationTests {

    @Test
    void greedyTextBeginsWithTheReference() throws IOException {
        Path path = TestModels.requireShared(TestModels.STORYBOOKS);
        try (LlamaModel model = LlamaModel.load(path)) {
            assertThat(model.config().headDim()).isEqualTo(128);
            var generator = new Generator(model, new ScalarMatVec(), new ReferenceKvCaches());
            var result = generator.generate(GenerationRequest.of("Once upon a time", 48, SamplingParams.greedy()),
                    TokenSink.IGNORE);
            assertThat("Once upon a time" + result.text()).startsWith("Once upon a time, there was a little girl "
                    + "named Lily. She loved to play with her toys and asked her mom, \"Mommy, can I play with your "
                    + "toys?\"\n");
        }
    }
}
