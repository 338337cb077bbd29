package io.innerq.server;

import io.innerq.serving.GpuRuntime;
import io.innerq.autoconfigure.FailingGpuForward;
import io.innerq.vulkan.VulkanDevice;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Bean;
import org.springframework.test.context.ContextConfiguration;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The service with {@code spring.ai.innerq.backend=vulkan} on a real Vulkan device (lavapipe in CI): completions come from the
 * GPU's forward pass; when the GPU fails (a lost device injected into its token steps), requests still get the same text,
 * from the CPU, health stays UP and shows the open circuit, and Prometheus counts the fallbacks.
 */
@SpringBootTest(classes = {InnerqServer.class, GpuFallbackServiceTests.FailingGpu.class},
        webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"spring.ai.innerq.backend=vulkan", "spring.ai.innerq.kv.mode=fp32", "spring.ai.innerq.queue-timeout=2s"})
@ContextConfiguration(initializers = InnerqServiceTest.TestModel.class)
class GpuFallbackServiceTests {

    static final AtomicBoolean LOST = new AtomicBoolean();
    private static final String REQUEST = """
            {"prompt": "Once upon a time", "max_tokens": 18, "temperature": 0}""";
    private static final String TEXT = ", there was a little girl named Lily. She loved to play out";

    @LocalServerPort
    int port;

    Http http;

    @BeforeEach
    void client() {
        http = new Http(port);
    }

    @AfterEach
    void heal() {
        LOST.set(false);
    }

    @Test
    void theGpuServesUntilItFailsThenTheCpuServesTheSameText() {
        var healthy = http.post("/v1/completions", REQUEST, null);
        assertThat(healthy.status()).as(healthy.body()).isEqualTo(200);
        assertThat(healthy.json().path("choices").get(0).path("text").asString()).isEqualTo(TEXT);
        var health = http.get("/actuator/health", null).json().path("components").path("innerq").path("details");
        assertThat(health.path("backend").asString()).startsWith("vulkan");
        assertThat(health.path("gpu").asString()).isNotBlank();
        assertThat(health.path("gpuCircuit").asString()).isEqualTo("CLOSED");

        LOST.set(true);
        for (int i = 0; i < 3; i++) {
            var r = http.post("/v1/completions", REQUEST, null);
            assertThat(r.status()).as(r.body()).isEqualTo(200);
            assertThat(r.json().path("choices").get(0).path("text").asString()).isEqualTo(TEXT);
        }
        var after = http.get("/actuator/health", null);
        assertThat(after.json().path("status").asString()).isEqualTo("UP");
        var details = after.json().path("components").path("innerq").path("details");
        assertThat(details.path("gpuCircuit").asString()).isEqualTo("OPEN");
        assertThat(details.path("gpuFallbacks").asLong()).isEqualTo(3);
        assertThat(http.get("/actuator/health/liveness", null).status()).isEqualTo(200);
        assertThat(http.get("/actuator/prometheus", null).body()).contains("innerq_gpu_fallbacks_total 3.0");
    }

    /** The device's forward pass with a switch ({@link #LOST}) that makes its token steps fail as a lost device does. */
    @TestConfiguration
    static class FailingGpu {
        @Bean
        GpuRuntime gpuRuntime() {
            return GpuRuntime.of(VulkanDevice.open(VulkanDevice.Options.fromSystemProperties()),
                    forward -> new FailingGpuForward(forward, LOST, new AtomicInteger()));
        }
    }
}
