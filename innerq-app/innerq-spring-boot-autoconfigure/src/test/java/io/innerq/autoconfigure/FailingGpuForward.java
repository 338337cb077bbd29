package io.innerq.autoconfigure;

import io.innerq.cache.KvMode;
import io.innerq.port.out.ForwardPort;
import io.innerq.vulkan.VulkanException;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real device's forward pass with a switch: while {@code lost} is set, a token step fails as it does on a lost
 * device (a {@link VulkanException} from the submission). Counts the steps that reached the GPU.
 */
public record FailingGpuForward(ForwardPort gpu, AtomicBoolean lost, AtomicInteger calls) implements ForwardPort {

    @Override
    public Sequence start(int capacity, KvMode mode) {
        Sequence sequence = gpu.start(capacity, mode);
        return new Sequence() {
            @Override
            public float[] prefill(int[] tokens, int start, int count) {
                reach();
                return sequence.prefill(tokens, start, count);
            }

            @Override
            public float[] step(int token, int position, boolean computeLogits) {
                reach();
                return sequence.step(token, position, computeLogits);
            }

            private void reach() {
                calls.incrementAndGet();
                if (lost.get()) {
                    throw new VulkanException("vkQueueSubmit failed: VK_ERROR_DEVICE_LOST (injected)");
                }
            }

            @Override
            public void endPrefill(int promptLength) {
                sequence.endPrefill(promptLength);
            }

            @Override
            public int capacity() {
                return sequence.capacity();
            }

            @Override
            public long kvBytes() {
                return sequence.kvBytes();
            }

            @Override
            public void close() {
                sequence.close();
            }
        };
    }

    @Override
    public String name() {
        return gpu.name();
    }
}
