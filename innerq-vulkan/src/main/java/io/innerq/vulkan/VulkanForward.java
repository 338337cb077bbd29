package io.innerq.vulkan;

import io.innerq.cache.KvMode;
import io.innerq.model.LlamaConfig;
import io.innerq.model.LlamaForward;
import io.innerq.model.LlamaModel;
import io.innerq.model.LlamaWeights;
import io.innerq.model.Rope;
import io.innerq.port.out.ForwardPort;
import io.innerq.port.out.KvCachePort.CacheGeometry;
import io.innerq.tensor.ScalarKernels;
import io.innerq.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * The whole token step of a Llama model on a Vulkan device. The weights are uploaded once, in their stored type, and
 * shared by every sequence; each sequence keeps its activations and its KV cache on the device. A submission records
 * the work of up to {@link #BATCH} tokens (every layer's RMSNorm, products, RoPE, cache write and attention, SwiGLU and
 * residual adds, then the logits) into one command buffer: only the token's embedding row and RoPE angles go in
 * (computed on the host, so they equal {@link LlamaForward}'s), and only the logits come out.
 *
 * <p>Sequences may run on different threads at once; the weights are read-only.
 */
public final class VulkanForward implements ForwardPort, AutoCloseable {

    /** Tokens of a prompt recorded into one submission, their products sharing each pass over a weight. */
    public static final int BATCH = 32;
    /** Layers recorded per part of a step's submission: the GPU runs a part while the host records the next. */
    static final int LAYERS_PER_PART = 4;

    private final KernelLibrary kernels;
    private final VulkanDevice device;
    private final LlamaModel model;
    private final LlamaConfig c;
    private final CacheGeometry geometry;
    private final StepKernels step;
    private final Rope rope;
    private final int ropeDims;
    private final Tensor embedding;
    private final List<DeviceMatrix> uploaded = new ArrayList<>();
    private final DeviceMatrix[] wq, wk, wv, wo, gate, up, down;
    private final DeviceMatrix output;
    private final VulkanBuffer norms; // fp32 [layer][attn | ffn][dim], then the output norm [dim]
    private final long weightBytes;

    /**
     * Uploads {@code model}'s weights to the kernels' device.
     *
     * @throws IllegalArgumentException when a weight does not fit the device (more bytes than one buffer may hold)
     */
    public VulkanForward(KernelLibrary kernels, LlamaModel model) {
        this(kernels, model, null);
    }

    /** With one-token Q4_0 and Q8_0 products in {@code products}' kernels (null: the device's best). */
    VulkanForward(KernelLibrary kernels, LlamaModel model, StepKernels.Products products) {
        this.kernels = kernels;
        this.device = kernels.device();
        this.model = model;
        this.c = model.config();
        this.geometry = new CacheGeometry(c.layers(), c.heads(), c.kvHeads(), c.headDim());
        this.step = new StepKernels(kernels, null, products);
        this.rope = new Rope(model);
        this.ropeDims = rope.dimensions();
        LlamaWeights w = model.weights();
        this.embedding = w.tokenEmbedding();
        int n = c.layers();
        wq = new DeviceMatrix[n];
        wk = new DeviceMatrix[n];
        wv = new DeviceMatrix[n];
        wo = new DeviceMatrix[n];
        gate = new DeviceMatrix[n];
        up = new DeviceMatrix[n];
        down = new DeviceMatrix[n];
        VulkanBuffer normBuffer = null;
        try {
            for (int l = 0; l < n; l++) {
                wq[l] = upload(w.wq()[l]);
                wk[l] = upload(w.wk()[l]);
                wv[l] = upload(w.wv()[l]);
                wo[l] = upload(w.wo()[l]);
                gate[l] = upload(w.wGate()[l]);
                up[l] = upload(w.wUp()[l]);
                down[l] = upload(w.wDown()[l]);
            }
            output = upload(w.output());
            int dim = c.dim();
            float[] all = new float[(2 * n + 1) * dim];
            for (int l = 0; l < n; l++) {
                System.arraycopy(w.attnNorm()[l], 0, all, attnNorm(l), dim);
                System.arraycopy(w.ffnNorm()[l], 0, all, ffnNorm(l), dim);
            }
            System.arraycopy(w.outputNorm(), 0, all, outputNorm(), dim);
            normBuffer = VulkanBuffer.deviceLocal(device, 4L * all.length);
            try (VulkanBuffer staging = VulkanBuffer.hostVisible(device, 4L * all.length);
                 CommandBatch batch = new CommandBatch(device)) {
                staging.write(0, all, 0, all.length);
                batch.begin().copy(staging, 0, normBuffer, 0, 4L * all.length).submitAndWait();
            }
        } catch (RuntimeException e) {
            uploaded.forEach(VulkanKvCache::closeQuietly);
            VulkanKvCache.closeQuietly(normBuffer);
            throw e;
        }
        norms = normBuffer;
        weightBytes = uploaded.stream().mapToLong(DeviceMatrix::bytesRead).sum();
    }

    private DeviceMatrix upload(Tensor t) {
        DeviceMatrix m = DeviceMatrix.upload(device, t);
        uploaded.add(m);
        return m;
    }

    // Offsets (floats) of the norm weights
    private int attnNorm(int layer) {
        return 2 * layer * c.dim();
    }

    private int ffnNorm(int layer) {
        return (2 * layer + 1) * c.dim();
    }

    private int outputNorm() {
        return 2 * c.layers() * c.dim();
    }

    /** Bytes of weights one token's step reads (every matrix once, the logits included). */
    public long weightBytes() {
        return weightBytes;
    }

    public LlamaModel model() {
        return model;
    }

    @Override
    public DeviceSequence start(int capacity, KvMode mode) {
        return new DeviceSequence(capacity, mode);
    }

    @Override
    public String name() {
        return "vulkan (" + device.info().name() + ")";
    }

    VulkanDevice device() {
        return device;
    }

    /** The kernels one-token Q4_0 and Q8_0 products run. */
    StepKernels.Products products() {
        return step.decodeProducts();
    }

    @Override
    public void close() {
        uploaded.forEach(VulkanKvCache::closeQuietly);
        uploaded.clear();
        VulkanKvCache.closeQuietly(norms);
    }

    /**
     * One sequence on the device. Activations (device-local fp32, {@code B = BATCH} token rows each):
     * {@code x [B][dim] | rope [B][ropeDims] (cos | sin) | xb [B][dim] | q [B][qDim] | k [B][kvDim] | v [B][kvDim] |
     * att [B][qDim] | hb [B][ffn] | hb2 [B][ffn] | logits [vocab]}; the KV cache uses this buffer as its I/O buffer.
     * Host I/O (host-visible fp32): {@code x [B][dim] | rope [B][ropeDims] | logits [vocab]}.
     */
    public final class DeviceSequence implements Sequence {
        private final int dim = c.dim();
        private final int qDim = c.qDim();
        private final int kvDim = c.kvDim();
        private final int ffn = c.ffnDim();
        private final int vocab = c.vocabularySize();
        private final int x = 0;
        private final int table = x + BATCH * dim;
        private final int xb = table + BATCH * ropeDims;
        private final int q = xb + BATCH * dim;
        private final int k = q + BATCH * qDim;
        private final int v = k + BATCH * kvDim;
        private final int att = v + BATCH * kvDim;
        private final int hb = att + BATCH * qDim;
        private final int hb2 = hb + BATCH * ffn;
        private final int logitsAt = hb2 + BATCH * ffn;
        private final int ioLogits = BATCH * (dim + ropeDims);

        private final VulkanBuffer act;
        private final VulkanBuffer io;
        private final VulkanKvCache cache;
        private final DescriptorPool pool;
        private final CommandBatch batch;
        private final long actSet;
        private final long normSet;
        private final long[] wqSet, wkSet, wvSet, woSet, gateSet, upSet, downSet;
        private final long outputSet;
        private final float[] rows = new float[BATCH * dim];
        private final float[] angles = new float[BATCH * ropeDims]; // [B][cos | sin]
        private final int[] one = new int[1];                         // a decode step's token
        private final float[] logits = new float[vocab];
        private TimestampQueries timing; // for benchmarks: GPU time of each submission
        private KernelProfile profile;   // for benchmarks: GPU time per kernel kind
        private long recordNanos;        // host time spent recording the last submission
        private boolean closed;

        private DeviceSequence(int capacity, KvMode mode) {
            int n = c.layers();
            VulkanBuffer actBuffer = null;
            VulkanBuffer ioBuffer = null;
            VulkanKvCache kv = null;
            DescriptorPool descriptors = null;
            try {
                actBuffer = VulkanBuffer.deviceLocal(device, 4L * (logitsAt + vocab));
                ioBuffer = VulkanBuffer.hostVisible(device, 4L * (ioLogits + vocab));
                kv = VulkanKvCaches.allocate(kernels, geometry, capacity, mode, actBuffer);
                descriptors = new DescriptorPool(device, 7 * n + 3, 2);
            } catch (RuntimeException e) {
                for (AutoCloseable r : new AutoCloseable[]{descriptors, kv, ioBuffer, actBuffer}) {
                    VulkanKvCache.closeQuietly(r);
                }
                throw e;
            }
            act = actBuffer;
            io = ioBuffer;
            cache = kv;
            pool = descriptors;
            batch = cache.batch();
            actSet = step.actSet(pool, act);
            normSet = step.normSet(pool, norms, act);
            wqSet = sets(wq);
            wkSet = sets(wk);
            wvSet = sets(wv);
            woSet = sets(wo);
            gateSet = sets(gate);
            upSet = sets(up);
            downSet = sets(down);
            outputSet = step.matMulSet(pool, output, act);
        }

        private long[] sets(DeviceMatrix[] matrices) {
            long[] s = new long[matrices.length];
            for (int l = 0; l < s.length; l++) {
                s[l] = step.matMulSet(pool, matrices[l], act);
            }
            return s;
        }

        @Override
        public float[] prefill(int[] tokens, int start, int count) {
            float[] last = null;
            for (int done = 0; done < count; done += BATCH) {
                int n = Math.min(BATCH, count - done);
                last = run(tokens, start + done, start + done, n, done + n == count);
            }
            return last;
        }

        @Override
        public float[] step(int token, int position, boolean computeLogits) {
            one[0] = token;
            return run(one, 0, position, 1, computeLogits);
        }

        /** Runs tokens {@code tokens[from .. from + n)} at positions {@code position ..} in one submission. */
        private float[] run(int[] tokens, int from, int position, int n, boolean computeLogits) {
            for (int i = 0; i < n; i++) {
                ScalarKernels.dequantizeRow(embedding, tokens[from + i], rows, i * dim);
                rope.angles(position + i, angles, i * ropeDims);
            }
            long recordStart = System.nanoTime();
            io.write(0, rows, 0, n * dim);
            io.write(4L * BATCH * dim, angles, 0, n * ropeDims);
            batch.begin();
            if (timing != null) {
                batch.resetQueries(timing, 0, 2).timestamp(timing, 0);
            }
            batch.copy(io, 0, act, 4L * x, 4L * n * dim)
                    .copy(io, 4L * BATCH * dim, act, 4L * table, 4L * n * ropeDims)
                    .barrier();
            float eps = c.rmsNormEps();
            int layers = c.layers();
            step.rmsNorm(batch, normSet, n, dim, x, dim, xb, dim, attnNorm(0), eps);
            batch.barrier();
            for (int l = 0; l < layers; l++) {
                step.matMul(batch, wq[l], wqSet[l], n, xb, dim, q, qDim);
                step.matMul(batch, wk[l], wkSet[l], n, xb, dim, k, kvDim);
                step.matMul(batch, wv[l], wvSet[l], n, xb, dim, v, kvDim);
                batch.barrier();
                step.rope(batch, actSet, n, c.heads(), c.headDim(), ropeDims, q, qDim, table, ropeDims);
                step.rope(batch, actSet, n, c.kvHeads(), c.headDim(), ropeDims, k, kvDim, table, ropeDims);
                batch.barrier();
                for (int i = 0; i < n; i++) { // causal: each token attends right after it is stored
                    cache.recordStep(l, position + i, k + i * kvDim, v + i * kvDim, q + i * qDim, att + i * qDim);
                    batch.barrier();
                }
                step.matMul(batch, wo[l], woSet[l], n, att, qDim, xb, dim);
                batch.barrier();
                step.addRmsNorm(batch, normSet, n, dim, x, xb, xb, dim, ffnNorm(l), eps); // x += attention; xb = norm(x)
                batch.barrier();
                step.matMul(batch, gate[l], gateSet[l], n, xb, dim, hb, ffn);
                step.matMul(batch, up[l], upSet[l], n, xb, dim, hb2, ffn);
                cache.recordDeferred(l); // beside the two largest products of the layer
                batch.barrier();
                step.swiglu(batch, actSet, n, ffn, hb, hb2, ffn);
                batch.barrier();
                step.matMul(batch, down[l], downSet[l], n, hb, ffn, xb, dim);
                batch.barrier();
                if (l + 1 < layers) { // x += feed-forward; xb = the next layer's norm(x)
                    step.addRmsNorm(batch, normSet, n, dim, x, xb, xb, dim, attnNorm(l + 1), eps);
                    batch.barrier();
                    if ((l + 1) % LAYERS_PER_PART == 0) {
                        batch.submitAndContinue();
                    }
                }
            }
            if (computeLogits) { // the last token only: x += feed-forward; xb = norm(x); logits
                int last = (n - 1) * dim;
                step.addRmsNorm(batch, normSet, 1, dim, x + last, xb + last, xb + last, dim, outputNorm(), eps);
                batch.barrier();
                step.matMul(batch, output, outputSet, 1, xb + last, dim, logitsAt, vocab);
                batch.barrier();
                batch.copy(act, 4L * logitsAt, io, 4L * ioLogits, 4L * vocab);
            }
            if (timing != null) {
                batch.timestamp(timing, 1);
            }
            recordNanos = System.nanoTime() - recordStart;
            batch.submitAndWait();
            if (profile != null) {
                profile.collect();
            }
            cache.afterSubmit();
            if (!computeLogits) {
                return null;
            }
            io.read(4L * ioLogits, logits, 0, vocab);
            return logits;
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
        public long kvBytes() {
            return cache.bytesInUse();
        }

        /** For benchmarks: the cache in the state of a sequence that has run {@code n} tokens ({@link VulkanKvCache#fillForBenchmark}). */
        public void fillForBenchmark(int n) {
            cache.fillForBenchmark(n);
        }

        /** For benchmarks: writes GPU timestamps around each submission from now on ({@link #lastGpuNanos}). */
        void timeSubmissions() {
            if (timing == null) {
                timing = new TimestampQueries(device, 2);
            }
        }

        /** For benchmarks: times every command of the following submissions into {@code p} (null: stops). */
        void profile(KernelProfile p) {
            profile = p;
            batch.profile(p);
        }

        /** Host time spent recording the last submission (the step's kernels into its command buffer). */
        long lastRecordNanos() {
            return recordNanos;
        }

        /** GPU time of the last submission, after {@link #timeSubmissions}. */
        double lastGpuNanos() {
            double[] t = timing.readNanos(0, 2);
            return t[1] - t[0];
        }

        /** Bytes of cache a step's attention reads at {@code n} tokens, all layers (after {@link #fillForBenchmark}). */
        public long cacheBytesRead(int n) {
            return c.layers() * (cache.keyBytesRead(n) + cache.valueBytesRead(n));
        }

        @Override
        public void close() {
            if (closed) {
                return;
            }
            closed = true;
            VulkanKvCache.closeQuietly(timing);
            VulkanKvCache.closeQuietly(pool);
            cache.close();
            VulkanKvCache.closeQuietly(io);
            VulkanKvCache.closeQuietly(act);
        }
    }
}
