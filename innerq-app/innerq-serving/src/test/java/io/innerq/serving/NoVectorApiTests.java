package io.innerq.serving;

import io.innerq.cache.KvMode;
import io.innerq.engine.GenerationRequest;
import io.innerq.sampling.SamplingParams;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An application whose JVM was started without {@code --add-modules jdk.incubator.vector}, as most are: the engine
 * runs the scalar backend, with one warning that names the flags for full speed. Runs in a JVM of its own without the
 * module (a surefire execution of this module's pom).
 */
class NoVectorApiTests {

    private static final ByteArrayOutputStream log = new ByteArrayOutputStream();

    @BeforeAll
    static void captureTheLog() {
        // before any logger exists: slf4j-simple writes to the System.err it finds at its start
        System.setErr(new PrintStream(log, true, StandardCharsets.UTF_8));
    }

    @Test
    void theEngineRunsTheScalarBackendAndWarnsOnceWithTheFlags() throws IOException {
        assertThat(ModuleLayer.boot().findModule("jdk.incubator.vector")).as("this JVM has no Vector API").isEmpty();
        var settings = new EngineSettings(BackendKind.CPU, 2, 2, KvMode.FP32, 64L << 20, Duration.ofSeconds(1),
                Duration.ofMinutes(1));
        try (var engine = InnerqEngine.opener(new ModelSource.Embedded(), settings).open()) {
            assertThat(engine.backendName()).startsWith("scalar");
            var request = new GenerationRequest("Once upon a time", 12, SamplingParams.greedy(), List.of(), true, true,
                    KvMode.FP32);
            var outcome = engine.generate(engine.prepare(request), GenerationListener.IGNORE);
            assertThat(outcome.result().text()).isEqualTo(", there was a little girl named Lily. She");
        }
        try (Backend backend = Backend.open(BackendKind.AUTO, 1)) {
            assertThat(backend).isInstanceOf(Backend.Scalar.class);
        }
        String warnings = log.toString(StandardCharsets.UTF_8);
        assertThat(warnings.lines().filter(l -> l.contains("WARN")).toList()).singleElement().asString()
                .contains("jdk.incubator.vector", Backend.Cpu.JVM_FLAGS);
    }
}
