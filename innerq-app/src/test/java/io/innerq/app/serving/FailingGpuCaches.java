package io.innerq.app.serving;

import io.innerq.cache.KvMode;
import io.innerq.port.out.KvCache;
import io.innerq.port.out.KvCachePort;
import io.innerq.vulkan.VulkanException;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real device's caches with a switch: while {@code lost} is set, attention fails as it does on a lost device (a
 * {@link VulkanException} from the submission). Counts the attention calls that reached the GPU.
 */
public record FailingGpuCaches(KvCachePort gpu, AtomicBoolean lost, AtomicInteger calls) implements KvCachePort {

    @Override
    public KvCache allocate(CacheGeometry geometry, int capacity, KvMode mode) {
        KvCache cache = gpu.allocate(geometry, capacity, mode);
        return new KvCache() {
            @Override
            public void store(int layer, int position, float[] k, float[] v) {
                cache.store(layer, position, k, v);
            }

            @Override
            public void attend(int layer, int position, float[] q, float[] out) {
                calls.incrementAndGet();
                if (lost.get()) {
                    throw new VulkanException("vkQueueSubmit failed: VK_ERROR_DEVICE_LOST (injected)");
                }
                cache.attend(layer, position, q, out);
            }

            @Override
            public void endPrefill(int promptLength) {
                cache.endPrefill(promptLength);
            }

            @Override
            public int capacity() {
                return cache.capacity();
            }

            @Override
            public long bytesInUse() {
                return cache.bytesInUse();
            }

            @Override
            public void close() {
                cache.close();
            }
        };
    }
}
