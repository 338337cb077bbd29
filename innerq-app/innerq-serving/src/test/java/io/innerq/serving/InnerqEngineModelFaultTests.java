package io.innerq.serving;

import io.innerq.cache.KvMode;
import io.innerq.engine.NonFiniteLogitsException;
import io.innerq.gguf.GgufFormatException;
import io.innerq.testing.GgufEdit;
import io.innerq.testing.TestModels;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * A model whose weights hold a NaN that the default load check does not read (an embedding row): the generations
 * that reach it end with {@link NonFiniteLogitsException}, give back their slot and KV bytes, and the engine serves
 * the next request; with {@code checkWeights} the engine refuses to open on it.
 */
class InnerqEngineModelFaultTests {

    @TempDir
    Path dir;

    /** stories260K with a NaN in the embedding row of token 403 (" Once"). */
    private Path poisoned() {
        return GgufEdit.of(TestModels.stories260K()).f32("token_embd.weight", 403 * 64 + 1, Float.NaN)
                .write(dir.resolve("nan-row.gguf"));
    }

    private static EngineSettings settings(boolean checkWeights) {
        return new EngineSettings(BackendKind.CPU, 2, 2, KvMode.FP32, 16L << 20, Duration.ofSeconds(1),
                Duration.ofMinutes(1), checkWeights);
    }

    private static GenerationOptions greedy(int maxTokens) {
        return GenerationOptions.builder().temperature(0.0).maxTokens(maxTokens).build();
    }

    private static void assertIdle(InnerqEngine engine) {
        assertThat(engine.activeGenerations()).isZero();
        assertThat(engine.freeSlots()).isEqualTo(2);
        assertThat(engine.kvBytesReserved()).isZero();
        assertThat(engine.kvBytesInUse()).isZero();
    }

    @Test
    void aNonFiniteLogitEndsThatGenerationAndTheEngineKeepsServing() throws IOException {
        var meters = new SimpleMeterRegistry();
        try (InnerqEngine engine = InnerqEngine.opener(new ModelSource.File(poisoned()), settings(false))
                .meters(meters).open()) {
            for (int i = 0; i < 3; i++) {
                var e = catchThrowableOfType(NonFiniteLogitsException.class, () -> engine.generate(
                        engine.prepareCompletion("Once upon a time", greedy(8)), (text, tokens) -> true));
                assertThat(e.getMessage()).contains("nan-row.gguf", "NaN");
                assertIdle(engine);
            }
            var streamed = catchThrowableOfType(NonFiniteLogitsException.class, () -> engine.stream(
                    engine.prepareCompletion("Once upon a time", greedy(8))).blockLast(Duration.ofSeconds(30)));
            assertThat(streamed.position()).isEqualTo(4);
            assertIdle(engine);

            GenerationOutcome ok = engine.generate(engine.prepareCompletion("Hello world", greedy(6)),
                    (text, tokens) -> true);
            assertThat(ok.result().completionTokens()).isEqualTo(6);
            assertIdle(engine);
            assertThat(meters.find("innerq.generations").tag("finish", "error").counter().count()).isEqualTo(4);
        }
    }

    @Test
    void withCheckWeightsTheEngineRefusesToOpenOnTheNaN() {
        assertThatThrownBy(() -> InnerqEngine.opener(new ModelSource.File(poisoned()), settings(true)).open())
                .isInstanceOf(GgufFormatException.class)
                .hasMessageContaining("tensor 'token_embd.weight': row 403, column 1 is NaN");
    }
}
