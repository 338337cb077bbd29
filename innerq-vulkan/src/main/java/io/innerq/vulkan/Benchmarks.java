package io.innerq.vulkan;

import java.util.Arrays;
import java.util.Locale;

/** What the device benchmarks share: the copy bandwidth they compare with, and their argument parsing. */
final class Benchmarks {

    private Benchmarks() {
    }

    /** Bytes read plus written per second copying between two device-local buffers: the better of the two ways below. */
    static double copyBandwidth(VulkanDevice device, KernelLibrary kernels, long bytes, int runs) {
        return Math.max(copyBandwidth(device, kernels, bytes, runs, false), copyBandwidth(device, kernels, bytes, runs, true));
    }

    /** Bytes read plus bytes written per second copying between two device-local buffers (vkCmdCopyBuffer or a kernel). */
    static double copyBandwidth(VulkanDevice device, KernelLibrary kernels, long bytes, int runs, boolean shader) {
        long size = Math.min(bytes, device.info().maxStorageBufferRange()) & ~15L;
        ComputeKernel copy = kernels.get("copy", 2, 1);
        try (VulkanBuffer a = VulkanBuffer.deviceLocal(device, size);
             VulkanBuffer b = VulkanBuffer.deviceLocal(device, size);
             TimestampQueries queries = new TimestampQueries(device, 2);
             DescriptorPool pool = new DescriptorPool(device, 2, 2);
             CommandBatch batch = new CommandBatch(device)) {
            long ab = pool.set(copy, a, b);
            long ba = pool.set(copy, b, a);
            int vectors = Math.toIntExact(size / 16);
            batch.begin().fill(a, 0, size, 0x01020304).submitAndWait();
            int copies = 10;
            double[] gbps = new double[runs];
            for (int r = -1; r < runs; r++) {
                batch.begin().resetQueries(queries, 0, 2).timestamp(queries, 0);
                for (int i = 0; i < copies; i++) {
                    if (shader) {
                        batch.dispatch(copy, i % 2 == 0 ? ab : ba, new int[]{vectors}, Math.min(65535, VulkanKvCache.ceilDiv(vectors, 256)), 1, 1);
                    } else if (i % 2 == 0) {
                        batch.copy(a, 0, b, 0, size);
                    } else {
                        batch.copy(b, 0, a, 0, size);
                    }
                    batch.barrier();
                }
                batch.timestamp(queries, 1).submitAndWait();
                double[] t = queries.readNanos(0, 2);
                if (r >= 0) {
                    gbps[r] = 2.0 * size * copies / (t[1] - t[0]);
                }
            }
            return median(gbps);
        }
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    /** A token count, {@code 32768} or {@code 32k}. */
    static int tokens(String s) {
        String t = s.strip().toLowerCase(Locale.ROOT);
        long n;
        try {
            n = t.endsWith("k") ? 1024 * Long.parseLong(t.substring(0, t.length() - 1)) : Long.parseLong(t);
        } catch (NumberFormatException e) {
            n = -1;
        }
        if (n <= 0 || n > MAX_CONTEXT) {
            throw new IllegalArgumentException("--contexts takes lengths from 1 to %d (or 1k to 16384k), got '%s'"
                    .formatted(MAX_CONTEXT, s));
        }
        return (int) n;
    }

    /** The longest context a benchmark takes: 2^24 tokens, the longest a model may declare. */
    static final int MAX_CONTEXT = 1 << 24;

    /** A positive integer option value, or an error that names the option and the range. */
    static int positive(String option, String v) {
        return whole(option, v, 1);
    }

    /** A whole number of at least {@code min}, or an error that names the option and the range. */
    static int whole(String option, String v, int min) {
        long n;
        try {
            n = Long.parseLong(v.strip());
        } catch (NumberFormatException e) {
            n = Long.MIN_VALUE;
        }
        if (n < min || n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("%s must be a whole number from %d to %d, got '%s'"
                    .formatted(option, min, Integer.MAX_VALUE, v));
        }
        return (int) n;
    }

    /** A JSON string. */
    static String quote(String s) {
        return '"' + s.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }
}
