package io.innerq.vulkan;

import io.innerq.tensor.BlockEncoder;
import io.innerq.tensor.GgmlType;
import io.innerq.tensor.ScalarKernels;
import io.innerq.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * The step kernels on the test device against Java: products of every weight type against {@link ScalarKernels}
 * (ragged float rows, 1 to 33 tokens, aligned and unaligned offsets and strides, rows not a multiple of a
 * workgroup's), RMSNorm against LlamaForward's formula, RoPE against Rope's, SwiGLU and the residual add.
 *
 * <p>Every call runs on an activation buffer poisoned with NaN outside its inputs, and every float outside the
 * outputs must keep its bits: a stray read of a padding column turns an output into NaN, a stray write shows.
 * Tolerances: products |gpu - ref| <= 1e-5 * sum_c |W[r][c] x[c]| (fp32 sums in another order; Q4_K applies its
 * mins to the sum of x), and for the integer decode products (x rounded to 8 bits) that plus x's rounding,
 * sum_c |W[r][c]| * d(c) / 2 with d = max|x| / 127 of c's block of 32; RMSNorm 1e-5 relative (fp32 against Java's double sum of squares); SwiGLU 1e-5 relative
 * (the device's exp); RoPE and add exact (no contraction: each product and sum rounded as in Java).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StepKernelsTests {

    private VulkanDevice device;
    private KernelLibrary kernels;
    private StepKernels step;
    private CommandBatch batch;

    @BeforeAll
    void open() {
        device = TestDevices.open();
        kernels = new KernelLibrary(device);
        step = new StepKernels(kernels, null, StepKernels.Products.FLOAT);
        batch = new CommandBatch(device);
    }

    @AfterEach
    void noValidationMessages() {
        TestDevices.assertNoValidationMessages(device);
    }

    @AfterAll
    void close() {
        batch.close();
        kernels.close();
        device.close();
    }

    /** Offsets and strides of one product: x at xBase + t*xStride, out at outBase + t*outStride. */
    private record Layout(int xBase, int xStride, int outBase, int outStride) {
        static Layout of(int rows, int cols, int tokens, boolean aligned) {
            int xBase = aligned ? 8 : 5;
            int xStride = aligned ? (cols + 3) / 4 * 4 + 4 : cols + 3;
            return new Layout(xBase, xStride, xBase + tokens * xStride + 7, rows + 1);
        }

        int size(int rows, int tokens) {
            return Math.max(xBase + tokens * xStride, outBase + (tokens - 1) * outStride + rows) + 16;
        }
    }

    @ParameterizedTest
    @EnumSource(GgmlType.class)
    void productsMatchTheScalarReference(GgmlType type) {
        int cols = type.blockSize() == 1 ? 203 : 512;     // float rows end in a part of a 16-byte load
        Tensor w = BlockEncoder.random(type, 37, cols, 11 + type.ordinal());
        try (DeviceMatrix m = DeviceMatrix.upload(device, w)) {
            assertThat(m.bytesRead()).isEqualTo(w.data().byteSize());
            assertThat(m.rows()).isEqualTo(37);
            assertThat(m.cols()).isEqualTo(cols);
            assertThat(m.type()).isEqualTo(type);
            // passes of 1, 4 and 8 tokens (33: four full passes and one of a token); x unaligned for 3 tokens here,
            // and for 5 in the test below
            for (int tokens : new int[]{1, 3, 8, 33}) {
                checkProduct(step, w, m, tokens, Layout.of(37, cols, tokens, tokens != 3));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(GgmlType.class)
    void productsInSmallWorkgroupsLoopOverUnitsAndRows(GgmlType type) {
        // One or four subgroups of threads, 3 rows a workgroup, 3 or 1 units per step: each thread takes several
        // units of a row (the last step past the row's end), and the last workgroup has rows past the end.
        int cols = switch (type) {
            case F32 -> 517;
            case F16, BF16 -> 1029;
            case Q8_0, Q4_0 -> 1024;
            case Q4_K, Q6_K -> 1536;
        };
        Tensor w = BlockEncoder.random(type, 7, cols, 29 + type.ordinal());
        try (DeviceMatrix m = DeviceMatrix.upload(device, w)) {
            int sg = device.info().subgroupSize();
            var products = StepKernels.Products.FLOAT;
            checkProduct(new StepKernels(kernels, new StepKernels.ProductShape(sg, 3, 3), products), w, m, 1, Layout.of(7, cols, 1, true));
            checkProduct(new StepKernels(kernels, new StepKernels.ProductShape(4 * sg, 3, 1), products), w, m, 5, Layout.of(7, cols, 5, false));
        }
    }

    /** The kinds of integer decode products this device runs: INTEGER always, INTEGER_DOT where it has the feature. */
    private StepKernels.Products[] integerProducts() {
        return device.info().integerDotProduct()
                ? new StepKernels.Products[]{StepKernels.Products.INTEGER, StepKernels.Products.INTEGER_DOT}
                : new StepKernels.Products[]{StepKernels.Products.INTEGER};
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q4_0", "Q8_0"})
    void integerDecodeProductsStayWithinTheRoundingOfX(GgmlType type) {
        // matvec_q.comp: default shapes, one subgroup of 3 rows and 3 blocks a lane (several steps over a row), four
        // subgroups of 1 row and 1 block, and 2100 rows in single-row workgroups (more than the 2048 workgroups
        // dispatched: they stride). Both kernels give the same integer sums, so their results agree to float order.
        int sg = device.info().subgroupSize();
        record Case(int rows, int cols, StepKernels.ProductShape shape, boolean aligned) {
        }
        var cases = new Case[]{new Case(37, 512, null, true), new Case(37, 1024, null, false),
                new Case(7, 1024, new StepKernels.ProductShape(sg, 3, 3), true),
                new Case(9, 1536, new StepKernels.ProductShape(4 * sg, 1, 1), false),
                new Case(2100, 64, new StepKernels.ProductShape(sg, 1, 1), true)};
        for (Case c : cases) {
            Tensor w = BlockEncoder.random(type, c.rows(), c.cols(), 41 + type.ordinal() + c.rows());
            try (DeviceMatrix m = DeviceMatrix.upload(device, w)) {
                float[] first = null;
                for (StepKernels.Products products : integerProducts()) {
                    var kernels = new StepKernels(this.kernels, c.shape(), products);
                    assertThat(kernels.integerProduct(m, 1)).as("%s runs matvec_q", products).isTrue();
                    assertThat(kernels.integerProduct(m, 2)).as("two tokens run matmul").isFalse();
                    float[] out = checkIntegerProduct(kernels, w, m, Layout.of(c.rows(), c.cols(), 1, c.aligned()));
                    if (first == null) {
                        first = out;
                    } else {
                        for (int r = 0; r < c.rows(); r++) {
                            assertThat(out[r]).as("%s row %d: dot and written-out sums", type, r)
                                    .isCloseTo(first[r], within(1e-5f * Math.abs(first[r]) + 1e-5f));
                        }
                    }
                }
            }
        }
    }

    @Test
    void theFloatProductsAreTheFallbackAndTheDotProductTheDefaultOnAGpuWithIt() {
        var kernels = new StepKernels(this.kernels, null, StepKernels.Products.FLOAT);
        try (DeviceMatrix m = DeviceMatrix.upload(device, BlockEncoder.random(GgmlType.Q4_0, 4, 256, 5))) {
            assertThat(kernels.integerProduct(m, 1)).isFalse();
        }
        boolean dot = device.info().integerDotProduct() && !device.info().isCpu()
                && System.getProperty("innerq.vulkan.products") == null;
        assertThat(new StepKernels(this.kernels).decodeProducts()).as("the default products on " + device.info())
                .isEqualTo(dot ? StepKernels.Products.INTEGER_DOT : StepKernels.Products.FLOAT);
        if (!device.info().integerDotProduct()) {
            assertThatThrownBy(() -> new StepKernels(this.kernels, null, StepKernels.Products.INTEGER_DOT))
                    .isInstanceOf(VulkanException.class).hasMessageContaining("integer dot product");
        }
    }

    /**
     * One token of {@code w} against the float product: within the error of rounding x to 8 bits per block of 32
     * (|x - x'| <= d / 2, d = max|x| / 127 of the block, so |out - ref| <= sum_c |W[r][c]| d(c) / 2) plus fp32
     * summation. Returns the outputs by row.
     */
    private float[] checkIntegerProduct(StepKernels kernels, Tensor w, DeviceMatrix m, Layout l) {
        int rows = w.rows();
        int cols = w.cols();
        var random = new SplittableRandom(rows * 7L + cols);
        float[] act = poisoned(l.size(rows, 1));
        float[] x = new float[cols];
        for (int c = 0; c < cols; c++) {
            x[c] = (float) (random.nextGaussian() * (1 + c % 7)); // blocks of different scales
            act[l.xBase() + c] = x[c];
        }
        float[] d = new float[cols / 32];
        for (int b = 0; b < d.length; b++) {
            for (int c = 32 * b; c < 32 * b + 32; c++) {
                d[b] = Math.max(d[b], Math.abs(x[c]) / 127);
            }
        }
        float[] result = run(act, buffer -> {
            try (var pool = new DescriptorPool(device, 1, 2)) {
                long set = kernels.matMulSet(pool, m, buffer);
                batch.begin();
                kernels.matMul(batch, m, set, 1, l.xBase(), l.xStride(), l.outBase(), l.outStride());
                batch.submitAndWait();
            }
        });
        float[] row = new float[cols];
        float[] out = new float[rows];
        for (int r = 0; r < rows; r++) {
            ScalarKernels.dequantizeRow(w, r, row, 0);
            double expected = ScalarKernels.dotRow(w, r, x);
            double magnitude = 0;
            double rounding = 0;
            for (int c = 0; c < cols; c++) {
                magnitude += Math.abs(row[c] * x[c]);
                rounding += Math.abs(row[c]) * d[c / 32] / 2;
            }
            int at = l.outBase() + r;
            assertThat((double) result[at]).as("%s row %d, %s", w.type(), r, l)
                    .isCloseTo(expected, within(rounding * 1.001 + 1e-5 * magnitude + 1e-6));
            out[r] = result[at];
            act[at] = result[at];
        }
        assertSameBits(result, act, "floats outside the product's output");
        return out;
    }

    private void checkProduct(StepKernels kernels, Tensor w, DeviceMatrix m, int tokens, Layout l) {
        int rows = w.rows();
        int cols = w.cols();
        var random = new SplittableRandom(tokens * 31L + cols);
        float[] act = poisoned(l.size(rows, tokens));
        float[][] x = new float[tokens][cols];
        for (int t = 0; t < tokens; t++) {
            for (int c = 0; c < cols; c++) {
                x[t][c] = (float) random.nextGaussian();
                act[l.xBase() + t * l.xStride() + c] = x[t][c];
            }
        }
        float[] result = run(act, buffer -> {
            try (var pool = new DescriptorPool(device, 1, 2)) {
                long set = kernels.matMulSet(pool, m, buffer);
                batch.begin();
                kernels.matMul(batch, m, set, tokens, l.xBase(), l.xStride(), l.outBase(), l.outStride());
                batch.submitAndWait();
            }
        });
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            ScalarKernels.dequantizeRow(w, r, row, 0);
            for (int t = 0; t < tokens; t++) {
                float expected = ScalarKernels.dotRow(w, r, x[t]);
                double magnitude = 0;
                for (int c = 0; c < cols; c++) {
                    magnitude += Math.abs(row[c] * x[t][c]);
                }
                int at = l.outBase() + t * l.outStride() + r;
                assertThat((double) result[at]).as("%s row %d token %d of %d, %s", w.type(), r, t, tokens, l)
                        .isCloseTo(expected, within(1e-5 * magnitude + 1e-6));
                act[at] = result[at];
            }
        }
        assertSameBits(result, act, "floats outside the product's output");
    }

    @Test
    void rmsNormMatchesLlamaForward() {
        int dim = 300;
        int tokens = 3;
        var random = new SplittableRandom(7);
        float[] norms = new float[1000];
        for (int i = 0; i < norms.length; i++) {
            norms[i] = (float) (1 + 0.5 * random.nextGaussian());
        }
        float eps = 1e-5f;
        // out of place, unaligned; then in place
        for (int[] o : new int[][]{{3, 301, 1000, 310, 17}, {40, 304, 40, 304, 600}}) {
            int inBase = o[0], inStride = o[1], outBase = o[2], outStride = o[3], weightBase = o[4];
            float[] act = poisoned(2000);
            float[][] in = new float[tokens][dim];
            for (int t = 0; t < tokens; t++) {
                for (int i = 0; i < dim; i++) {
                    in[t][i] = (float) (3 * random.nextGaussian());
                    act[inBase + t * inStride + i] = in[t][i];
                }
            }
            float[] result;
            try (VulkanBuffer normBuffer = VulkanBuffer.hostVisible(device, 4L * norms.length)) {
                normBuffer.write(0, norms, 0, norms.length);
                result = run(act, buffer -> {
                    try (var pool = new DescriptorPool(device, 1, 2)) {
                        long set = step.normSet(pool, normBuffer, buffer);
                        batch.begin();
                        step.rmsNorm(batch, set, tokens, dim, inBase, inStride, outBase, outStride, weightBase, eps);
                        batch.submitAndWait();
                    }
                });
            }
            float[] weight = Arrays.copyOfRange(norms, weightBase, weightBase + dim);
            float[] expected = new float[dim];
            for (int t = 0; t < tokens; t++) {
                rmsNorm(expected, in[t], weight, eps);
                for (int i = 0; i < dim; i++) {
                    int at = outBase + t * outStride + i;
                    assertThat(result[at]).as("token %d element %d", t, i)
                            .isCloseTo(expected[i], within(1e-5f * Math.abs(expected[i]) + 1e-7f));
                    act[at] = result[at];
                }
            }
            assertSameBits(result, act, "floats outside the norm's output");
        }
    }

    @Test
    void residualAddThenRmsNormMatchesJava() {
        int dim = 300;
        int tokens = 3;
        int stride = 310;
        var random = new SplittableRandom(8);
        float[] norms = new float[dim];
        for (int i = 0; i < dim; i++) {
            norms[i] = (float) (1 + 0.5 * random.nextGaussian());
        }
        float eps = 1e-5f;
        // out = y (as the forward pass uses it), then a third region
        for (int outBase : new int[]{1000, 2000}) {
            int xBase = 5;
            int yBase = 1000;
            float[] act = poisoned(3000);
            float[][] x = new float[tokens][dim];
            float[][] y = new float[tokens][dim];
            for (int t = 0; t < tokens; t++) {
                for (int i = 0; i < dim; i++) {
                    x[t][i] = (float) (3 * random.nextGaussian());
                    y[t][i] = (float) random.nextGaussian();
                    act[xBase + t * stride + i] = x[t][i];
                    act[yBase + t * stride + i] = y[t][i];
                }
            }
            float[] result;
            try (VulkanBuffer normBuffer = VulkanBuffer.hostVisible(device, 4L * dim)) {
                normBuffer.write(0, norms, 0, dim);
                result = run(act, buffer -> {
                    try (var pool = new DescriptorPool(device, 1, 2)) {
                        long set = step.normSet(pool, normBuffer, buffer);
                        batch.begin();
                        step.addRmsNorm(batch, set, tokens, dim, xBase, yBase, outBase, stride, 0, eps);
                        batch.submitAndWait();
                    }
                });
            }
            float[] sum = new float[dim];
            float[] expected = new float[dim];
            for (int t = 0; t < tokens; t++) {
                for (int i = 0; i < dim; i++) {
                    sum[i] = x[t][i] + y[t][i];
                }
                rmsNorm(expected, sum, norms, eps);
                for (int i = 0; i < dim; i++) {
                    int xi = xBase + t * stride + i;
                    int oi = outBase + t * stride + i;
                    assertThat(result[xi]).as("x token %d element %d", t, i).isEqualTo(sum[i]);
                    assertThat(result[oi]).as("out token %d element %d", t, i)
                            .isCloseTo(expected[i], within(1e-5f * Math.abs(expected[i]) + 1e-7f));
                    act[xi] = result[xi];
                    act[oi] = result[oi];
                }
            }
            assertSameBits(result, act, "floats outside x and the output");
        }
    }

    /** LlamaForward.rmsNorm. */
    private static void rmsNorm(float[] out, float[] in, float[] weight, float eps) {
        double ss = 0;
        for (float f : in) {
            ss += f * f;
        }
        float scale = (float) (1.0 / Math.sqrt(ss / in.length + eps));
        for (int i = 0; i < in.length; i++) {
            out[i] = in[i] * scale * weight[i];
        }
    }

    @Test
    void ropeMatchesRopeExactly() {
        int tokens = 3;
        int heads = 5;
        int headDim = 16;
        for (int ropeDims : new int[]{16, 8}) {
            int base = 3;
            int stride = heads * headDim + 5;
            int tableBase = base + tokens * stride + 1;
            int tableStride = ropeDims + 2;
            int half = ropeDims / 2;
            var random = new SplittableRandom(ropeDims);
            float[] act = poisoned(tableBase + tokens * tableStride + 8);
            float[][] x = new float[tokens][heads * headDim];
            for (int t = 0; t < tokens; t++) {
                int position = 100 + 17 * t;
                for (int i = 0; i < half; i++) {  // Rope's table: base 10000, no scaling
                    double angle = position * (float) Math.pow(10000.0, -2.0 * i / ropeDims);
                    act[tableBase + t * tableStride + i] = (float) Math.cos(angle);
                    act[tableBase + t * tableStride + half + i] = (float) Math.sin(angle);
                }
                for (int i = 0; i < x[t].length; i++) {
                    x[t][i] = (float) random.nextGaussian();
                    act[base + t * stride + i] = x[t][i];
                }
            }
            float[] table = act.clone();
            float[] result = run(act, buffer -> {
                try (var pool = new DescriptorPool(device, 1, 1)) {
                    long set = step.actSet(pool, buffer);
                    batch.begin();
                    step.rope(batch, set, tokens, heads, headDim, ropeDims, base, stride, tableBase, tableStride);
                    batch.submitAndWait();
                }
            });
            for (int t = 0; t < tokens; t++) {
                float[] expected = x[t].clone();
                for (int h = 0; h < heads; h++) {             // Rope.apply
                    for (int i = 0; i < half; i++) {
                        float cos = table[tableBase + t * tableStride + i];
                        float sin = table[tableBase + t * tableStride + half + i];
                        float x0 = expected[h * headDim + 2 * i];
                        float x1 = expected[h * headDim + 2 * i + 1];
                        expected[h * headDim + 2 * i] = x0 * cos - x1 * sin;
                        expected[h * headDim + 2 * i + 1] = x0 * sin + x1 * cos;
                    }
                }
                System.arraycopy(expected, 0, act, base + t * stride, expected.length);
            }
            assertSameBits(result, act, "RoPE with " + ropeDims + " of " + headDim + " dimensions rotated");
        }
    }

    @Test
    void swigluMatchesJava() {
        int tokens = 4;
        int n = 300;
        int stride = 2 * n + 3;
        int gateBase = 1;
        int upBase = gateBase + n + 1;
        var random = new SplittableRandom(3);
        float[] act = poisoned(gateBase + tokens * stride + 4);
        for (int t = 0; t < tokens; t++) {
            for (int i = 0; i < n; i++) {
                act[gateBase + t * stride + i] = (float) (4 * random.nextGaussian());
                act[upBase + t * stride + i] = (float) random.nextGaussian();
            }
        }
        float[] before = act.clone();
        float[] result = run(act, buffer -> {
            try (var pool = new DescriptorPool(device, 1, 1)) {
                long set = step.actSet(pool, buffer);
                batch.begin();
                step.swiglu(batch, set, tokens, n, gateBase, upBase, stride);
                batch.submitAndWait();
            }
        });
        for (int t = 0; t < tokens; t++) {
            for (int i = 0; i < n; i++) {
                int g = gateBase + t * stride + i;
                int u = upBase + t * stride + i;
                float gate = before[g];
                float swiglu = gate / (1f + (float) Math.exp(-gate)) * before[u];
                assertThat(result[g]).as("swiglu token %d element %d", t, i)
                        .isCloseTo(swiglu, within(1e-5f * Math.abs(swiglu) + 1e-7f));
                assertThat(result[u]).as("up token %d element %d, untouched", t, i).isEqualTo(before[u]);
                act[g] = result[g];
                act[u] = result[u];
            }
        }
        assertSameBits(result, act, "floats outside gate and up");
    }

    @Test
    void aMatrixLargerThanAStorageBufferNamesTheTensor() {
        long limit = device.info().maxStorageBufferRange();
        int cols = 4096;
        int rows = Math.toIntExact(limit / (4L * cols) + 1);
        // never read: the size check comes first
        var data = MemorySegment.NULL.reinterpret(4L * rows * cols);
        Tensor w = new Tensor("blk.0.ffn_down.weight", GgmlType.F32, new long[]{cols, rows}, data);
        assertThatThrownBy(() -> DeviceMatrix.upload(device, w))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("blk.0.ffn_down.weight")
                .hasMessageContaining("F32");
    }

    private static float[] poisoned(int n) {
        float[] a = new float[n];
        Arrays.fill(a, Float.NaN);
        return a;
    }

    /** Runs {@code record} on a buffer holding {@code act}; returns the buffer's floats afterwards. */
    private float[] run(float[] act, Consumer<VulkanBuffer> record) {
        try (VulkanBuffer buffer = VulkanBuffer.hostVisible(device, 4L * act.length)) {
            buffer.write(0, act, 0, act.length);
            record.accept(buffer);
            float[] out = new float[act.length];
            buffer.read(0, out, 0, act.length);
            return out;
        }
    }

    private static void assertSameBits(float[] actual, float[] expected, String what) {
        for (int i = 0; i < actual.length; i++) {
            if (Float.floatToRawIntBits(actual[i]) != Float.floatToRawIntBits(expected[i])) {
                throw new AssertionError("%s: float %d is %s, expected %s".formatted(what, i, actual[i], expected[i]));
            }
        }
    }
}
