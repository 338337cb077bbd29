package io.innerq.vulkan;

import io.innerq.port.out.MatVecPort;
import io.innerq.tensor.GgmlType;
import io.innerq.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Matrix-vector products on the device, each weight uploaded once in its stored type (F32, F16, BF16, Q8_0, Q4_0)
 * and kept there. One submission per product: the building block of a GPU token step, not yet the step itself
 * (which records every product of a token into one submission). One caller at a time.
 */
public final class VulkanMatVec implements MatVecPort, AutoCloseable {

    private final KernelLibrary kernels;
    private final VulkanDevice device;
    private final Map<Tensor, Uploaded> weights = new IdentityHashMap<>();
    private final DescriptorPool pool;
    private final CommandBatch batch;
    private VulkanBuffer input;
    private VulkanBuffer output;

    /** A weight on the device, its kernel, and its descriptor set (re-made when the I/O buffers grow). */
    private static final class Uploaded {
        final VulkanBuffer buffer;
        final ComputeKernel kernel;
        long set;

        Uploaded(VulkanBuffer buffer, ComputeKernel kernel) {
            this.buffer = buffer;
            this.kernel = kernel;
        }
    }

    public VulkanMatVec(KernelLibrary kernels) {
        this.kernels = kernels;
        this.device = kernels.device();
        this.pool = new DescriptorPool(device, 4096, 3);
        this.batch = new CommandBatch(device);
    }


    private static int kernelType(GgmlType type) {
        return switch (type) {
            case F32 -> 0;
            case F16 -> 1;
            case BF16 -> 2;
            case Q8_0 -> 3;
            case Q4_0 -> 4;
            default -> -1;
        };
    }

    @Override
    public void matVec(Tensor w, float[] x, float[] out) {
        Uploaded u = upload(w);
        ensureIo(w.cols(), w.rows());
        input.write(0, x, 0, w.cols());
        batch.begin().dispatch(u.kernel, u.set, new int[]{w.rows(), w.cols(), Math.toIntExact(w.rowBytes()), 0, 0},
                w.rows(), 1, 1).submitAndWait();
        output.read(0, out, 0, w.rows());
    }

    private Uploaded upload(Tensor w) {
        Uploaded u = weights.get(w);
        if (u != null) {
            return u;
        }
        int type = kernelType(w.type());
        if (type < 0) {
            throw new IllegalArgumentException("the Vulkan matrix products take F32, F16, BF16, Q8_0 and Q4_0 weights; "
                    + w.name() + " is " + w.type() + ": use the CPU backend for this model");
        }
        long bytes = (w.data().byteSize() + 3) & ~3L;
        VulkanBuffer buffer = VulkanBuffer.deviceLocal(device, bytes);
        try (VulkanBuffer staging = VulkanBuffer.hostVisible(device, bytes)) {
            MemorySegment.ofBuffer(staging.mapped()).copyFrom(w.data());
            batch.begin().copy(staging, 0, buffer, 0, bytes).submitAndWait();
        } catch (RuntimeException e) {
            buffer.close();
            throw e;
        }
        u = new Uploaded(buffer, kernels.get("matvec", 3, 5, type));
        weights.put(w, u);
        ensureIo(w.cols(), w.rows());
        if (u.set == 0) {
            u.set = pool.set(u.kernel, buffer, input, output);
        }
        return u;
    }

    /** Input and output buffers big enough for this product; when they grow, every weight's set is made again. */
    private void ensureIo(int cols, int rows) {
        if (input != null && input.size() >= 4L * cols && output.size() >= 4L * rows) {
            return;
        }
        long in = Math.max(4L * cols, input == null ? 4 : input.size());
        long out = Math.max(4L * rows, output == null ? 4 : output.size());
        if (input != null) {
            input.close();
            output.close();
        }
        input = VulkanBuffer.hostVisible(device, in);
        output = VulkanBuffer.hostVisible(device, out);
        for (Uploaded u : weights.values()) {
            u.set = pool.set(u.kernel, u.buffer, input, output);
        }
    }

    /** Uploads every weight of {@code tensors} and sizes the I/O buffers for the largest (call once, before products). */
    public void prepare(Iterable<Tensor> tensors) {
        int cols = 1;
        int rows = 1;
        for (Tensor t : tensors) {
            cols = Math.max(cols, t.cols());
            rows = Math.max(rows, t.rows());
        }
        ensureIo(cols, rows);
        for (Tensor t : tensors) {
            upload(t);
        }
    }

    @Override
    public String name() {
        return "vulkan-matvec";
    }

    @Override
    public void close() {
        batch.close();
        pool.close();
        weights.values().forEach(u -> u.buffer.close());
        weights.clear();
        if (input != null) {
            input.close();
            output.close();
        }
    }

}
