package io.innerq.vulkan;

import io.innerq.tensor.GgmlType;
import org.lwjgl.system.MemoryStack;
import org.lwjgl.vulkan.VkPhysicalDeviceProperties2;
import org.lwjgl.vulkan.VkPhysicalDeviceSubgroupProperties;

import java.util.Arrays;

import static org.lwjgl.system.MemoryStack.stackPush;
import static org.lwjgl.vulkan.VK11.*;

/**
 * The kernels of a Llama token step besides attention: weight products, RMSNorm, RoPE, SwiGLU and the residual add.
 * Each call records dispatches into the caller's {@link CommandBatch} and nothing else: the caller places the
 * barriers between dependent calls and submits once per step. Offsets and strides are in floats into one fp32
 * activation buffer {@code act}; a call's input and output regions are either the same (where a call says it works
 * in place) or disjoint.
 *
 * <p>Sets come from the caller's {@link DescriptorPool}, made once per buffer (and matrix) at set-up. Kernels are
 * made on first use (through {@link KernelLibrary}) and kept, so recording a step allocates nothing. One thread
 * records at a time.
 */
final class StepKernels {

    /** Tokens a product accumulates in registers in one pass over the weights. */
    static final int TOKENS_PER_PASS = 8;

    /**
     * How a product's workgroups are shaped: {@code threads} threads (a multiple of the subgroup) share {@code rows}
     * rows, each thread loading {@code unroll} units before it computes.
     */
    record ProductShape(int threads, int rows, int unroll) {
        ProductShape {
            if (threads <= 0 || threads > 1024 || rows <= 0 || rows > 16 || unroll <= 0 || unroll > 8) {
                throw new IllegalArgumentException("a product workgroup takes 1..1024 threads, 1..16 rows and unrolls "
                        + "1..8 units, got %d, %d and %d".formatted(threads, rows, unroll));
            }
        }

        @Override
        public String toString() {
            return threads + "x" + rows + "x" + unroll;
        }
    }

    /**
     * Which kernels a decode product (one token) of Q4_0 or Q8_0 weights runs. {@code FLOAT}: matmul.comp, codes
     * unpacked to floats. {@code INTEGER}: matvec_q.comp, x quantized to 8 bits per block of 32 and integer sums of
     * byte products written out; {@code INTEGER_DOT}: the same with the device's packed dot product
     * (GL_EXT_integer_dot_product). Products of other types, and of several tokens, always run matmul.comp.
     */
    enum Products {
        FLOAT, INTEGER, INTEGER_DOT;

        /**
         * The kernels named by the system property {@code innerq.vulkan.products} ({@code float}, {@code int},
         * {@code dot}, default {@code auto}). Auto: the packed integer dot product on a GPU that has it (on an H100 a
         * whole Q4_0 step ran 3–6% faster with it than with the float kernels, and matched the CPU), the float kernels
         * elsewhere (a CPU implementation such as lavapipe gains nothing from 8-bit activations).
         */
        static Products best(VulkanDevice.DeviceInfo info) {
            String chosen = System.getProperty("innerq.vulkan.products", "auto");
            Products p;
            try {
                p = parse(chosen);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("innerq.vulkan.products: " + e.getMessage());
            }
            if (p != null) {
                return p;
            }
            return info.integerDotProduct() && !info.isCpu() ? INTEGER_DOT : FLOAT;
        }

        /** {@code float}, {@code int}, {@code dot} or {@code auto} (null: {@link #best}). */
        static Products parse(String s) {
            return switch (s.strip()) {
                case "float" -> FLOAT;
                case "int" -> INTEGER;
                case "dot" -> INTEGER_DOT;
                case "auto" -> null;
                default -> throw new IllegalArgumentException("products are float, int, dot or auto, got " + s);
            };
        }
    }

    /**
     * A product kernel and the rows each of its workgroups takes; for matvec_q, the weight type, columns, matrix class
     * and x load it was made for, and the workgroups it strides over at most.
     */
    private record Product(ComputeKernel kernel, String label, int rows, GgmlType type, int cols, boolean shortMatrix,
                           boolean vectorX, int maxGroups) {
        Product(ComputeKernel kernel, GgmlType type, int rows) {
            this(kernel, kernel.name() + " " + type, rows, null, 0, false, false, Integer.MAX_VALUE);
        }
    }

    private static final int MAX_GROUPS = 65535;   // the least maxComputeWorkGroupCount Vulkan allows
    private static final int SHORT_MATRIX = 2048;   // rows up to which a decode product takes more threads per row
    private static final int ROPE_THREADS = 64;     // rope.comp's local size
    private static final int ELEMENT_THREADS = 256; // swiglu.comp's
    private static final int STRIDED_GROUPS = 2048; // matvec_q's workgroups at most (each quantizes x once)

    private final KernelLibrary kernels;
    private final int subgroupSize;
    private final ProductShape forcedShape;         // null: the shape chosen per type and pass
    private final Products decode;                  // kernels of a one-token Q4_0 or Q8_0 product
    private final ComputeKernel rmsNorm;
    private final ComputeKernel addRmsNorm;
    private final ComputeKernel rope;
    private final ComputeKernel swiglu;
    /** Product kernels made so far, by type, short matrix or not, pass size (1, 2, 4, 8 tokens), x read as vec4 or not. */
    private final Product[] products = new Product[GgmlType.values().length * 2 * 4 * 2];
    /** matvec_q kernels made so far (searched in order: a step has a few shapes). */
    private Product[] integerProducts = new Product[0];
    private final int[] push8 = new int[8];
    private final int[] push7 = new int[7];
    private final int[] push4 = new int[4];

    StepKernels(KernelLibrary kernels) {
        this(kernels, null, null);
    }

    /** With every product in workgroups of {@code shape} (for benchmarks that compare shapes). */
    StepKernels(KernelLibrary kernels, ProductShape shape) {
        this(kernels, shape, null);
    }

    /**
     * With every product in workgroups of {@code shape} (null: chosen per type and pass) and one-token Q4_0 and Q8_0
     * products in {@code decode}'s kernels (null: {@link Products#best}).
     *
     * @throws VulkanException when {@code decode} is INTEGER_DOT and the device has no integer dot product
     */
    StepKernels(KernelLibrary kernels, ProductShape shape, Products decode) {
        this.kernels = kernels;
        VulkanDevice device = kernels.device();
        requireSubgroupArithmetic(device);
        this.subgroupSize = device.info().subgroupSize();
        this.forcedShape = shape;
        this.decode = decode == null ? Products.best(device.info()) : decode;
        if (this.decode == Products.INTEGER_DOT && !device.info().integerDotProduct()) {
            throw new VulkanException(device.info().name() + " has no integer dot product (VK_KHR_shader_integer_dot_product): "
                    + "run its products with the float or int kernels");
        }
        this.rmsNorm = kernels.get("rms_norm", 2, 8, 0);
        this.addRmsNorm = kernels.get("rms_norm", 2, 8, 1);
        this.rope = kernels.get("rope", 1, 7);
        this.swiglu = kernels.get("swiglu", 1, 4);
    }

    private static void requireSubgroupArithmetic(VulkanDevice device) {
        try (MemoryStack stack = stackPush()) {
            VkPhysicalDeviceSubgroupProperties subgroup = VkPhysicalDeviceSubgroupProperties.calloc(stack).sType$Default();
            VkPhysicalDeviceProperties2 props = VkPhysicalDeviceProperties2.calloc(stack).sType$Default().pNext(subgroup.address());
            vkGetPhysicalDeviceProperties2(device.handle().getPhysicalDevice(), props);
            int ops = VK_SUBGROUP_FEATURE_BASIC_BIT | VK_SUBGROUP_FEATURE_ARITHMETIC_BIT;
            if ((subgroup.supportedOperations() & ops) != ops || (subgroup.supportedStages() & VK_SHADER_STAGE_COMPUTE_BIT) == 0) {
                throw new VulkanException("the GPU token step needs subgroup arithmetic (subgroupAdd) in compute shaders, which "
                        + device.info().name() + " does not offer: use the CPU backend on this device");
            }
        }
    }

    /**
     * The workgroup shape of a product of {@code w} taking {@code pass} tokens per pass over the weights, from a sweep
     * on an H200 (StepKernelsBenchmark --workgroups). Decode: a few rows per workgroup and two to four units in flight
     * per thread, more threads per row for short matrices; a pass of several tokens: four rows per workgroup share
     * each load of x.
     */
    ProductShape shape(DeviceMatrix w, int pass) {
        if (forcedShape != null) {
            return fit(forcedShape);
        }
        ProductShape s;
        if (pass > 1) {
            s = new ProductShape(64, 4, 1);
        } else {
            boolean shortMatrix = w.rows() <= SHORT_MATRIX;
            s = switch (w.type()) {
                case F32, F16, BF16 -> shortMatrix ? new ProductShape(256, 1, 2) : new ProductShape(128, 2, 2);
                case Q8_0 -> shortMatrix ? new ProductShape(256, 2, 2) : new ProductShape(128, 2, 2);
                case Q4_0 -> shortMatrix ? new ProductShape(256, 2, 2) : new ProductShape(128, 4, 4);
                case Q4_K, Q6_K -> shortMatrix ? new ProductShape(256, 2, 2) : new ProductShape(128, 4, 2);
            };
        }
        return fit(s);
    }

    /** The kernels one-token Q4_0 and Q8_0 products run. */
    Products decodeProducts() {
        return decode;
    }

    /**
     * The workgroup shape of a one-token product of {@code w} in matvec_q.comp: {@code rows} per subgroup,
     * {@code unroll} blocks of each row loaded per lane before use.
     */
    ProductShape integerShape(DeviceMatrix w) {
        if (forcedShape != null) {
            return fit(forcedShape);
        }
        boolean shortMatrix = w.rows() <= SHORT_MATRIX;
        return fit(shortMatrix ? new ProductShape(128, 1, 4) : new ProductShape(128, 2, 4));
    }

    /** Whether a product of {@code tokens} tokens of {@code w} runs matvec_q.comp. */
    boolean integerProduct(DeviceMatrix w, int tokens) {
        return tokens == 1 && decode != Products.FLOAT && (w.type() == GgmlType.Q4_0 || w.type() == GgmlType.Q8_0)
                && w.cols() % 32 == 0 && 40L * (w.cols() / 32) <= kernels.device().info().maxSharedMemory();
    }

    private Product integerProduct(DeviceMatrix w, boolean vectorX) {
        boolean shortMatrix = w.rows() <= SHORT_MATRIX;
        for (Product p : integerProducts) {
            if (p.type() == w.type() && p.cols() == w.cols() && p.shortMatrix() == shortMatrix && p.vectorX() == vectorX) {
                return p;
            }
        }
        ProductShape s = integerShape(w);
        String shader = decode == Products.INTEGER_DOT ? "matvec_q_dot" : "matvec_q";
        ComputeKernel k = kernels.get(shader, 2, 8, s.threads(), typeId(w.type()), s.rows(), w.cols() / 32,
                vectorX ? 1 : 0, s.unroll());
        Product p = new Product(k, shader + " " + w.type(), s.threads() / subgroupSize * s.rows(), w.type(), w.cols(),
                shortMatrix, vectorX, STRIDED_GROUPS);
        integerProducts = Arrays.copyOf(integerProducts, integerProducts.length + 1);
        integerProducts[integerProducts.length - 1] = p;
        return p;
    }

    /** {@code s} with its threads a multiple of the subgroup size (at least one subgroup). */
    private ProductShape fit(ProductShape s) {
        int threads = Math.max(subgroupSize, s.threads() / subgroupSize * subgroupSize);
        return threads == s.threads() ? s : new ProductShape(threads, s.rows(), s.unroll());
    }

    private static int typeId(GgmlType type) {
        return switch (type) {
            case F32 -> 0;
            case F16 -> 1;
            case BF16 -> 2;
            case Q8_0 -> 3;
            case Q4_0 -> 4;
            case Q4_K -> 5;
            case Q6_K -> 6;
        };
    }

    /** Tokens per pass for a product of {@code tokens} tokens: 1, 2, 4 or {@link #TOKENS_PER_PASS}. */
    static int pass(int tokens) {
        return tokens >= 5 ? TOKENS_PER_PASS : Integer.highestOneBit(2 * tokens - 1);
    }

    private Product product(DeviceMatrix w, int pass, boolean vectorX) {
        int i = ((typeId(w.type()) * 2 + (w.rows() <= SHORT_MATRIX ? 1 : 0)) * 4 + Integer.numberOfTrailingZeros(pass)) * 2
                + (vectorX ? 1 : 0);
        if (products[i] == null) {
            ProductShape s = shape(w, pass);
            products[i] = new Product(kernels.get("matmul", 2, 8, s.threads(), typeId(w.type()), s.rows(), pass,
                    s.threads() / subgroupSize, vectorX ? 1 : 0, s.unroll()), w.type(), s.rows());
        }
        return products[i];
    }

    /** A set for products of {@code w}: binding 0 the matrix, 1 {@code act} (fp32). */
    long matMulSet(DescriptorPool pool, DeviceMatrix w, VulkanBuffer act) {
        return pool.set(product(w, 1, false).kernel(), w.buffer(), act);
    }

    /**
     * out[t][r] = sum_c W[r][c] * act[xBase + t*xStride + c], written at act[outBase + t*outStride + r], t < tokens
     * (1 = decode, more = a prompt batch, {@link #TOKENS_PER_PASS} per pass over the weights). x and out must not
     * overlap. x is read as vec4 when xBase and xStride are multiples of 4. One token of Q4_0 or Q8_0 weights runs
     * the kernels of {@link #decodeProducts} (x rounded to 8 bits per block of 32 unless FLOAT).
     */
    void matMul(CommandBatch b, DeviceMatrix w, long set, int tokens, int xBase, int xStride, int outBase, int outStride) {
        checkTokens(tokens);
        checkNonNegative(xBase | xStride | outBase | outStride);
        int pass = pass(tokens);
        boolean vectorX = xBase % 4 == 0 && (tokens == 1 || xStride % 4 == 0);
        Product k = integerProduct(w, tokens) ? integerProduct(w, vectorX) : product(w, pass, vectorX);
        int groups = (w.rows() + k.rows() - 1) / k.rows();
        if (k.type() != null) { // matvec_q: workgroups stride over the rows
            groups = Math.min(groups, k.maxGroups());
        }
        int gx = Math.min(groups, MAX_GROUPS);
        int[] p = push8;
        p[0] = w.rows();
        p[1] = w.cols();
        p[2] = tokens;
        p[3] = xBase;
        p[4] = xStride;
        p[5] = outBase;
        p[6] = outStride;
        p[7] = Math.toIntExact(w.scaleOffset() / 4);
        b.dispatch(k.kernel(), k.label(), set, p, gx, (groups + gx - 1) / gx, (tokens + pass - 1) / pass);
    }

    /** A set for RMSNorm: binding 0 {@code norms} (fp32, every norm weight vector), 1 {@code act} (fp32). */
    long normSet(DescriptorPool pool, VulkanBuffer norms, VulkanBuffer act) {
        return pool.set(rmsNorm, norms, act);
    }

    /**
     * out = in * (1/sqrt(mean(in^2) + eps)) * norms[weightBase ..], per token, {@code dim} elements at
     * act[inBase + t*inStride] and act[outBase + t*outStride] (the same formula as LlamaForward.rmsNorm, in fp32;
     * in may equal out).
     */
    void rmsNorm(CommandBatch b, long set, int tokens, int dim, int inBase, int inStride, int outBase, int outStride,
                 int weightBase, float eps) {
        norm(b, rmsNorm, set, tokens, dim, inBase, inStride, outBase, outStride, weightBase, eps, 0);
    }

    /**
     * The residual add, then RMSNorm, in one kernel: x += y, then out = x * (1/sqrt(mean(x^2) + eps)) * norms[weightBase ..],
     * per token, with x at act[xBase + t*stride], y at act[yBase + t*stride], out at act[outBase + t*stride]; out may be
     * y (one thread reads and writes each element), neither may overlap x.
     */
    void addRmsNorm(CommandBatch b, long set, int tokens, int dim, int xBase, int yBase, int outBase, int stride,
                    int weightBase, float eps) {
        norm(b, addRmsNorm, set, tokens, dim, xBase, stride, outBase, stride, weightBase, eps, yBase);
    }

    private void norm(CommandBatch b, ComputeKernel kernel, long set, int tokens, int dim, int inBase, int inStride,
                      int outBase, int outStride, int weightBase, float eps, int yBase) {
        checkTokens(tokens);
        checkNonNegative(dim | inBase | inStride | outBase | outStride | weightBase | yBase);
        int[] p = push8;
        p[0] = dim;
        p[1] = inBase;
        p[2] = inStride;
        p[3] = outBase;
        p[4] = outStride;
        p[5] = weightBase;
        p[6] = Float.floatToRawIntBits(eps);
        p[7] = yBase;
        b.dispatch(kernel, set, p, tokens, 1, 1);
    }

    /** A set for RoPE and SwiGLU: binding 0 {@code act} (fp32). */
    long actSet(DescriptorPool pool, VulkanBuffer act) {
        return pool.set(rope, act);
    }

    /**
     * GGML "normal" RoPE in place on {@code heads} heads of {@code headDim} at act[base + t*stride + h*headDim]:
     * pairs (2i, 2i+1), i < ropeDims/2, rotated by cos = act[tableBase + t*tableStride + i] and
     * sin = act[tableBase + t*tableStride + ropeDims/2 + i] (the host writes the table).
     */
    void rope(CommandBatch b, long set, int tokens, int heads, int headDim, int ropeDims, int base, int stride,
              int tableBase, int tableStride) {
        checkTokens(tokens);
        checkNonNegative(heads | headDim | base | stride | tableBase | tableStride);
        if (ropeDims <= 0 || ropeDims % 2 != 0 || ropeDims > headDim) {
            throw new IllegalArgumentException("RoPE rotates an even number of dimensions up to the head's %d, got %d"
                    .formatted(headDim, ropeDims));
        }
        int half = ropeDims / 2;
        int[] p = push7;
        p[0] = heads;
        p[1] = headDim;
        p[2] = half;
        p[3] = base;
        p[4] = stride;
        p[5] = tableBase;
        p[6] = tableStride;
        b.dispatch(rope, set, p, (heads * half + ROPE_THREADS - 1) / ROPE_THREADS, tokens, 1);
    }

    /** gate = silu(gate) * up, {@code n} elements per token at act[gateBase + t*stride] and act[upBase + t*stride]. */
    void swiglu(CommandBatch b, long set, int tokens, int n, int gateBase, int upBase, int stride) {
        elementwise(b, swiglu, set, tokens, n, gateBase, upBase, stride);
    }

    private void elementwise(CommandBatch b, ComputeKernel k, long set, int tokens, int n, int aBase, int bBase, int stride) {
        checkTokens(tokens);
        checkNonNegative(n | aBase | bBase | stride);
        int[] p = push4;
        p[0] = n;
        p[1] = aBase;
        p[2] = bBase;
        p[3] = stride;
        b.dispatch(k, set, p, (n + ELEMENT_THREADS - 1) / ELEMENT_THREADS, tokens, 1);
    }

    private static void checkTokens(int tokens) {
        if (tokens <= 0 || tokens > MAX_GROUPS) {
            throw new IllegalArgumentException("tokens must be 1.." + MAX_GROUPS + ", got " + tokens);
        }
    }

    /** {@code bits}: the or of the offsets, strides and sizes of a call (negative when one is). */
    private static void checkNonNegative(int bits) {
        if (bits < 0) {
            throw new IllegalArgumentException("offsets, strides and sizes are non-negative float counts");
        }
    }
}
