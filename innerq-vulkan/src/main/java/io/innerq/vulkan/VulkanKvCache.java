package io.innerq.vulkan;

import io.innerq.cache.Positions;
import io.innerq.port.out.KvCache;
import io.innerq.port.out.KvCachePort.CacheGeometry;

/**
 * What every GPU cache shares: the per-step I/O buffer, the score and partial-sum scratch, one command batch, and
 * the order of work. {@link #store} only stages the token; {@link #attend} records the staged store (the layout's
 * append and flushes), q.K^T, softmax, p.V and the reduction into one submission, waits, and reads the output.
 * The cache stays on the GPU between tokens; per step only k, v, q and out cross the bus.
 *
 * <p>I/O buffer (host-visible, fp32): {@code k [kvDim] | v [kvDim] | q [heads * headDim] | out [heads * headDim]};
 * q is copied to a device-local buffer before the kernels read it (many workgroups read it). A cache made for a
 * device forward pass ({@link VulkanForward}) uses that pass's activation buffer instead, and {@link #recordStep}
 * records a token's store and attention into the pass's command buffer (this cache's batch), at the offsets where
 * the pass's kernels wrote k, v and q.
 * Scores: fp32 {@code [head][capacity]}, softmax in place. Partial sums: fp32 {@code [chunk][head][headDim]}.
 */
abstract class VulkanKvCache implements KvCache {

    /** Threads of a dense or KIVI q.K^T workgroup. */
    static final int SCORE_THREADS = 256;
    /** Steps of tokens a dense or KIVI q.K^T workgroup takes in turn (fp16 on the H200: 34 µs at 32k with 4, 52 with 1). */
    static final int SCORE_STEPS = 4;
    /** Tokens of a dense p.V chunk. */
    static final int DENSE_CHUNK = 256;

    protected final KernelLibrary kernels;
    protected final VulkanDevice device;
    protected final CacheGeometry g;
    protected final int capacity;
    protected final int hd;
    protected final int kvDim;
    protected final int qDim;
    protected final int perKv;
    protected final int[] length;
    protected final VulkanBuffer io;
    private final boolean ownIo;
    // Offsets (in floats) of k, v, q and out in the I/O buffer, for the token being recorded
    private int kAt;
    private int vAt;
    private int qAt;
    private int outAt;
    protected final VulkanBuffer query;
    protected final VulkanBuffer scores;
    protected final VulkanBuffer partial;
    protected final DescriptorPool pool;
    protected final CommandBatch batch;
    private final ComputeKernel softmax;
    private final ComputeKernel reduce;
    private final long softmaxSet;
    private final long reduceSet;
    private int pendingLayer = -1;
    private int pendingPosition;
    private boolean closed;

    /**
     * {@code maxChunks}: the most partial sums a p.V of this cache writes; {@code sets}: descriptor sets it binds;
     * {@code sharedIo}: a forward pass's activation buffer to use as the I/O buffer (not owned), or null for its own.
     */
    VulkanKvCache(KernelLibrary kernels, CacheGeometry geometry, int capacity, int maxChunks, int sets, VulkanBuffer sharedIo) {
        Positions.checkCapacity(capacity);
        this.kernels = kernels;
        this.device = kernels.device();
        this.g = geometry;
        this.capacity = capacity;
        this.hd = geometry.headDim();
        this.kvDim = geometry.kvDim();
        this.qDim = geometry.heads() * hd;
        this.perKv = geometry.groupSize();
        if (perKv > 8 || hd > 256 || hd % 8 != 0) {
            throw new IllegalArgumentException(("the Vulkan caches take head_dim up to 256 (a multiple of 8) and up to 8 query heads "
                    + "per KV head; this model has head_dim %d and %d: use the CPU backend").formatted(hd, perKv));
        }
        this.length = new int[geometry.layers()];
        VulkanBuffer ioBuffer = null;
        VulkanBuffer queryBuffer = null;
        VulkanBuffer scoreBuffer = null;
        VulkanBuffer partialBuffer = null;
        DescriptorPool descriptors = null;
        CommandBatch commands = null;
        try {
            ioBuffer = sharedIo != null ? sharedIo : VulkanBuffer.hostVisible(device, 4L * (2L * kvDim + 2L * qDim));
            queryBuffer = VulkanBuffer.deviceLocal(device, 4L * qDim);
            scoreBuffer = VulkanBuffer.deviceLocal(device, 4L * geometry.heads() * capacity);
            partialBuffer = VulkanBuffer.deviceLocal(device, 4L * Math.max(1, maxChunks) * qDim);
            descriptors = new DescriptorPool(device, sets + 2, 4);
            commands = new CommandBatch(device);
        } catch (RuntimeException e) {
            for (AutoCloseable c : new AutoCloseable[]{commands, descriptors, partialBuffer, scoreBuffer, queryBuffer,
                    ioBuffer == sharedIo ? null : ioBuffer}) {
                closeQuietly(c);
            }
            throw e;
        }
        io = ioBuffer;
        ownIo = sharedIo == null;
        kAt = 0;
        vAt = kvDim;
        qAt = 2 * kvDim;
        outAt = 2 * kvDim + qDim;
        query = queryBuffer;
        scores = scoreBuffer;
        partial = partialBuffer;
        pool = descriptors;
        batch = commands;
        softmax = kernels.get("softmax", 1, 2);
        reduce = kernels.get("reduce_chunks", 2, 3);
        softmaxSet = pool.set(softmax, scores);
        reduceSet = pool.set(reduce, partial, io);
    }

    // Offsets (in floats) of the I/O buffer's parts.
    final int kIo() {
        return kAt;
    }

    final int vIo() {
        return vAt;
    }

    final int qIo() {
        return qAt;
    }

    final int outIo() {
        return outAt;
    }

    /**
     * Records, into this cache's batch (begun by the caller), storing the token at {@code position} of {@code layer}
     * from the shared I/O buffer ({@code k} and {@code v} at those float offsets) and attending with {@code q} there,
     * into {@code out}; ends with the reduction's dispatch (the caller places the barrier after it). After the
     * batch's submission completed, call {@link #afterSubmit}.
     */
    final void recordStep(int layer, int position, int k, int v, int q, int out) {
        if (ownIo) {
            throw new IllegalStateException("recordStep needs a cache made on a forward pass's activation buffer");
        }
        Positions.checkNext(layer, position, length[layer], capacity);
        length[layer]++;
        kAt = k;
        vAt = v;
        qAt = q;
        outAt = out;
        recordStore(layer, position);
        recordQueryUpload(); // q's copy needs nothing from the store: one barrier after both
        recordAttention(layer, position + 1);
    }

    /**
     * Records work for the next token of {@code layer} that no attention waits for until then (an InnerQ key that
     * will leave the window), at a point of the current submission where it can run beside other work; a no-op for
     * most layouts. A caller that never calls it loses nothing: the next store records that work itself.
     */
    void recordDeferred(int layer) {
    }

    /** Tokens stored in {@code layer}. */
    final int length(int layer) {
        return length[layer];
    }

    @Override
    public final void store(int layer, int position, float[] k, float[] v) {
        Positions.checkNext(layer, position, length[layer], capacity);
        flushPending();
        io.write(4L * kIo(), k, 0, kvDim);
        io.write(4L * vIo(), v, 0, kvDim);
        pendingLayer = layer;
        pendingPosition = position;
        length[layer]++;
    }

    @Override
    public final void attend(int layer, int position, float[] q, float[] out) {
        Positions.checkNewest(layer, position, length[layer]);
        io.write(4L * qIo(), q, 0, qDim);
        batch.begin();
        recordPending();
        recordQueryUpload();
        recordAttention(layer, position + 1);
        recordDeferred(layer);
        batch.submitAndWait();
        afterSubmit();
        io.read(4L * outIo(), out, 0, qDim);
    }

    /** Records copying q from the I/O buffer to the device-local query buffer (and a barrier). */
    final void recordQueryUpload() {
        batch.copy(io, 4L * qIo(), query, 0, 4L * qDim).barrier();
    }

    /** Runs a staged store on its own (before another store, or before the prompt ends). */
    protected final void flushPending() {
        if (pendingLayer >= 0) {
            batch.begin();
            recordPending();
            batch.submitAndWait();
            afterSubmit();
        }
    }

    /** Called after each submission of {@link #store}, {@link #attend} or {@link #recordStep} has completed. */
    protected void afterSubmit() {
    }

    private void recordPending() {
        if (pendingLayer >= 0) {
            int layer = pendingLayer;
            pendingLayer = -1;
            recordStore(layer, pendingPosition);
            batch.barrier();
        }
    }

    /** Records writing the staged k and v (I/O buffer) at {@code position} of {@code layer}, and any flush it causes. */
    protected abstract void recordStore(int layer, int position);

    /** Records attention over tokens {@code [0, n)} of {@code layer} with q from the I/O buffer, into the I/O buffer's out. */
    final void recordAttention(int layer, int n) {
        recordScores(layer, n);
        batch.barrier();
        recordSoftmax(n);
        recordValues(layer, n);
    }

    /** Records q.K^T: scores[h][t] = q_h . k_t / sqrt(headDim) for t in {@code [0, n)}. */
    abstract void recordScores(int layer, int n);

    /** Records p.V from the probabilities in the score buffer into the I/O buffer's out (partial sums and their reduction). */
    abstract void recordValues(int layer, int n);

    /**
     * For benchmarks: puts every layer in the state of a sequence that has decoded {@code n} tokens (regions, windows
     * and flushes as the layout defines them), with fixed bit patterns as content (the kernels' speed does not depend
     * on it), and no prompt buffer.
     */
    abstract void fillForBenchmark(int n);

    /** Bytes of cache q.K^T reads at {@code n} tokens (one layer, after {@link #fillForBenchmark}). */
    abstract long keyBytesRead(int n);

    /** Bytes of cache p.V reads at {@code n} tokens (one layer, after {@link #fillForBenchmark}). */
    abstract long valueBytesRead(int n);

    /** Records {@code iterations} q.K^T calls over layers in turn (barriers between), for timing. */
    final void recordScoresRepeated(int n, int iterations) {
        for (int i = 0; i < iterations; i++) {
            recordScores(i % g.layers(), n);
            batch.barrier();
        }
    }

    /** Records {@code iterations} p.V calls over layers in turn (barriers between), for timing. */
    final void recordValuesRepeated(int n, int iterations) {
        for (int i = 0; i < iterations; i++) {
            recordValues(i % g.layers(), n);
            batch.barrier();
        }
    }


    CommandBatch batch() {
        return batch;
    }

    /** Records the softmax of every head's scores over {@code [0, n)} (and a barrier). */
    protected final void recordSoftmax(int n) {
        batch.dispatch(softmax, softmaxSet, new int[]{n, capacity}, g.heads(), 1, 1).barrier();
    }

    /** Records out = the sum of {@code chunks} partial sums. */
    protected final void recordReduce(int chunks) {
        batch.dispatch(reduce, reduceSet, new int[]{qDim, chunks, outIo()}, ceilDiv(qDim, 64), 1, 1);
    }

    @Override
    public final int capacity() {
        return capacity;
    }

    /**
     * Threads of a p.V workgroup: head_dim, times the shares a chunk's tokens are split into (up to 1024 threads, and
     * 4096 partial sums of shared memory).
     */
    static int valueThreads(int headDim, int perKv) {
        return headDim * Math.max(1, Math.min(1024, 4096 / perKv) / headDim);
    }

    /** Whether {@code lanes} adjacent threads of a token can add their parts with subgroup shuffles (1) or not (0). */
    final int shuffle(int lanes) {
        return Integer.bitCount(lanes) == 1 && lanes <= device.info().subgroupSize() ? 1 : 0;
    }

    /** q.K^T over a dense fp32 ({@code half} false) or fp16 layout: the dense caches' and every prompt buffer's. */
    final ComputeKernel denseScoresKernel(boolean half) {
        int seg = denseSegment(half);
        return kernels.get("dense_scores", 3, 7, hd, perKv, half ? 1 : 0, seg, shuffle(hd / seg), SCORE_STEPS, SCORE_THREADS);
    }

    /** Channels one thread of dense_scores reads: 16 bytes. */
    static int denseSegment(boolean half) {
        return half ? 8 : 4;
    }

    /** p.V over a dense layout, chunks of {@link #DENSE_CHUNK} tokens. */
    final ComputeKernel denseValuesKernel(boolean half) {
        return kernels.get("dense_values", 3, 6, hd, perKv, half ? 1 : 0, DENSE_CHUNK, valueThreads(hd, perKv));
    }

    /** Records q.K^T over a dense layout (element (t, kvHead, c) at base + kvHead * headStride + t * tokenStride + c, in words). */
    final void recordDenseScores(ComputeKernel kernel, boolean half, long set, int n, int base, int headStride, int tokenStride) {
        int tokensPerGroup = SCORE_THREADS / (hd / denseSegment(half));
        batch.dispatch(kernel, set, new int[]{n, base, headStride, tokenStride, capacity,
                floatBits((float) (1 / Math.sqrt(hd))), 0}, ceilDiv(n, SCORE_STEPS * tokensPerGroup), g.kvHeads(), 1);
    }

    /** Records p.V over a dense layout and the reduction of its chunks. */
    final void recordDenseValues(ComputeKernel kernel, long set, int n, int base, int headStride, int tokenStride) {
        int chunks = ceilDiv(n, DENSE_CHUNK);
        batch.dispatch(kernel, set, new int[]{n, base, headStride, tokenStride, capacity, g.heads()}, chunks, g.kvHeads(), 1)
                .barrier();
        recordReduce(chunks);
    }

    /** A region offset (or size) of a layer buffer in 32-bit words; the shaders index words with 32-bit integers. */
    static int offset(long words) {
        if (words > 0xFFFF_FFFFL / 4) {
            throw new IllegalArgumentException("one layer of this cache needs %,d bytes: more than a GPU buffer holds here; lower the context"
                    .formatted(4 * words));
        }
        return (int) words;
    }

    /** Checks an {@code endPrefill}: once, after every layer has stored the whole prompt. */
    final void checkPromptEnd(int promptLength, boolean prefilling) {
        if (!prefilling) {
            throw new IllegalStateException("endPrefill was already called");
        }
        for (int l = 0; l < length.length; l++) {
            if (length[l] != promptLength) {
                throw new IllegalStateException("endPrefill(%d), but layer %d holds %d tokens: run the whole prompt first"
                        .formatted(promptLength, l, length[l]));
            }
        }
    }

    static int ceilDiv(long a, int b) {
        return Math.toIntExact((a + b - 1) / b);
    }

    static int floatBits(float f) {
        return Float.floatToRawIntBits(f);
    }

    @Override
    public final void close() {
        if (closed) {
            return;
        }
        closed = true;
        closeQuietly(batch);
        closeQuietly(pool);
        releaseStorage();
        closeQuietly(partial);
        closeQuietly(scores);
        closeQuietly(query);
        if (ownIo) {
            closeQuietly(io);
        }
    }

    /** Frees the layout's own buffers. */
    protected abstract void releaseStorage();

    static void closeQuietly(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception e) {
            // closing frees memory; nothing else to do with a failure here
        }
    }
}
