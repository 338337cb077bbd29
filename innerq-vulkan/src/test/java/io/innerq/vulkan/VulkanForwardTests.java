package io.innerq.vulkan;

import io.innerq.cache.KvMode;
import io.innerq.cache.ReferenceKvCaches;
import io.innerq.engine.GenerationRequest;
import io.innerq.engine.Generator;
import io.innerq.engine.TokenSink;
import io.innerq.model.ForwardContractTests;
import io.innerq.model.LlamaModel;
import io.innerq.port.out.KvCachePort;
import io.innerq.port.out.MatVecPort;
import io.innerq.sampling.SamplingParams;
import io.innerq.tensor.ScalarMatVec;
import io.innerq.testing.TestModels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The forward pass with the KV cache and attention on the Vulkan device: stories260K's reference logits and greedy
 * text, batched prefill equal to steps for every mode the device serves, and the larger trained model's greedy text
 * equal to the reference ports' (fp32 and fp16 caches).
 */
class VulkanForwardTests extends ForwardContractTests {

    private VulkanDevice device;
    private KernelLibrary kernels;

    @BeforeAll
    void open() {
        device = TestDevices.open();
        kernels = new KernelLibrary(device);
    }

    @AfterEach
    void noValidationMessages() {
        TestDevices.assertNoValidationMessages(device);
    }

    @AfterAll
    void closeDevice() {
        kernels.close();
        device.close();
    }

    @Override
    protected MatVecPort ops() {
        return new ScalarMatVec();
    }

    @Override
    protected KvCachePort caches() {
        return new VulkanKvCaches(kernels);
    }

    @Override
    protected List<KvMode> modes() {
        return KvMode.all().stream().filter(VulkanKvCaches::serves).toList();
    }

    @Test
    void largerModelsGreedyTextEqualsTheReferencePorts() throws IOException {
        var path = TestModels.storybooks();
        assertThat(path).as("storybooks-18M-hd128.gguf in ../shared/models").isPresent();
        try (LlamaModel model = LlamaModel.load(path.get())) {
            for (KvMode mode : List.of(KvMode.FP32, KvMode.FP16)) {
                var request = GenerationRequest.of("Once upon a time", 40, SamplingParams.greedy()).withKvMode(mode);
                String expected = new Generator(model, new ScalarMatVec(), new ReferenceKvCaches()).generate(request, TokenSink.IGNORE).text();
                String actual = new Generator(model, new ScalarMatVec(), caches()).generate(request, TokenSink.IGNORE).text();
                assertThat(actual).as("greedy text with the %s cache on %s", mode.name(), device.info().name()).isEqualTo(expected);
            }
        }
    }
}
