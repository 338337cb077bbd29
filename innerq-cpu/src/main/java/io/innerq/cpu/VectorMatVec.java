package io.innerq.cpu;

import io.innerq.port.out.MatVecPort;
import io.innerq.tensor.Tensor;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@link MatVecPort} on the Java Vector API ({@link VectorKernels}), rows split across the CPU threads
 * ({@link CpuWorkers}: the caller and n - 1 daemon workers, tasks claimed from one atomic counter, spin-then-park).
 *
 * <p>A product's rows are cut into chunks of at least {@link #CHUNK_MIN_ELEMENTS} weights (and a multiple of four
 * rows), one task each. Products
 * under {@link #PARALLEL_MIN_ELEMENTS} weights run on the caller alone, and so do tensors whose segment other threads
 * cannot read (a confined arena's). A call allocates nothing, and a row's result does not depend on which thread
 * computed it, nor on whether {@link #matMul} batched it ({@link BatchKernels}: the same sums as {@link #matVec}).
 *
 * <p>One caller at a time: {@link #matVec} is not re-entrant and a concurrent call fails with
 * {@link IllegalStateException}; the workers may be shared with the attention ({@link VectorKvCaches}), which the
 * same generation thread calls in turn. {@link #close()} stops the workers if this instance made them.
 */
public final class VectorMatVec implements MatVecPort, AutoCloseable {

    /** Below this many weights, waking workers costs more than it saves. */
    static final long PARALLEL_MIN_ELEMENTS = 32 * 1024;
    /** Weights per claimed chunk, at least: a few microseconds of work, so claims stay cheap. */
    static final int CHUNK_MIN_ELEMENTS = 64 * 1024;

    private final CpuWorkers workers;
    private final boolean ownsWorkers;
    private final Rows task = new Rows(); // the call in flight: fields set per call, read by the workers
    private final AtomicBoolean busy = new AtomicBoolean();
    private volatile boolean closed;

    /** @param threads threads that share each product, the caller included; at least 1 (workers of its own) */
    public VectorMatVec(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("VectorMatVec needs at least 1 thread, got " + threads);
        }
        this.workers = new CpuWorkers(threads);
        this.ownsWorkers = true;
    }

    /** Products on {@code workers}, shared with others who call them in turn; {@link #close()} leaves them running. */
    public VectorMatVec(CpuWorkers workers) {
        this.workers = workers;
        this.ownsWorkers = false;
    }

    @Override
    public void matVec(Tensor w, float[] x, float[] out) {
        int rows = w.rows();
        int cols = w.cols();
        if (x.length < cols || out.length < rows) {
            throw new IllegalArgumentException("matVec of %s needs x of >= %d floats and out of >= %d, got %d and %d"
                    .formatted(w, cols, rows, x.length, out.length));
        }
        if (closed) {
            throw new IllegalStateException(name() + " is closed");
        }
        if (!busy.compareAndSet(false, true)) {
            throw new IllegalStateException(name() + " is already in a matVec call: it takes one caller at a time");
        }
        try {
            if ((long) rows * cols < PARALLEL_MIN_ELEMENTS || !workers.canShare(w.data())) {
                VectorKernels.rows(w, x, out, 0, rows);
            } else {
                runShared(w, x, out, null, null, 0, rows, cols);
            }
        } finally {
            busy.set(false);
        }
    }

    /** One input takes {@link #matVec}'s kernels (the same sums, a little faster than a batch of one). */
    @Override
    public void matMul(Tensor w, float[][] xs, float[][] outs, int n) {
        if (n == 1 && xs.length >= 1 && outs.length >= 1) {
            matVec(w, xs[0], outs[0]);
            return;
        }
        int rows = w.rows();
        int cols = w.cols();
        if (n < 1 || xs.length < n || outs.length < n) {
            throw new IllegalArgumentException("matMul of %s for %d inputs got %d inputs and %d outputs"
                    .formatted(w, n, xs.length, outs.length));
        }
        for (int i = 0; i < n; i++) {
            if (xs[i].length < cols || outs[i].length < rows) {
                throw new IllegalArgumentException("matMul of %s needs inputs of >= %d floats and outputs of >= %d"
                        .formatted(w, cols, rows));
            }
        }
        if (closed) {
            throw new IllegalStateException(name() + " is closed");
        }
        if (!busy.compareAndSet(false, true)) {
            throw new IllegalStateException(name() + " is already in a call: it takes one caller at a time");
        }
        try {
            if ((long) rows * cols * n < PARALLEL_MIN_ELEMENTS || !workers.canShare(w.data())) {
                BatchKernels.rows(w, xs, outs, n, 0, rows);
            } else {
                runShared(w, null, null, xs, outs, n, rows, cols);
            }
        } finally {
            busy.set(false);
        }
    }

    private void runShared(Tensor w, float[] x, float[] out, float[][] xs, float[][] outs, int batch, int rows,
                           int cols) {
        long work = (long) cols * Math.max(1, batch);
        int chunk = (int) Math.clamp((CHUNK_MIN_ELEMENTS + work - 1) / work, 1,
                Math.max(1, rows / (2 * workers.threads())));
        chunk = (chunk + 3) & ~3; // the kernels take rows four at a time
        Rows t = task;
        t.w = w;
        t.x = x;
        t.out = out;
        t.xs = xs;
        t.outs = outs;
        t.batch = batch;
        t.rows = rows;
        t.chunk = chunk;
        try {
            workers.run((rows + chunk - 1) / chunk, t);
        } finally {
            t.w = null; // hold no tensor or array past the call
            t.x = t.out = null;
            t.xs = t.outs = null;
        }
    }

    /** The rows of one product, chunk i = rows {@code [i * chunk, min(rows, (i + 1) * chunk))}. */
    private static final class Rows implements CpuWorkers.Task {
        Tensor w;
        float[] x;
        float[] out;
        float[][] xs;   // matMul: [batch][cols]
        float[][] outs; // matMul: [batch][rows]
        int batch;      // 0 for matVec
        int rows;
        int chunk;

        @Override
        public void run(int index) {
            int from = index * chunk;
            int to = Math.min(rows, from + chunk);
            if (batch == 0) {
                VectorKernels.rows(w, x, out, from, to);
            } else {
                BatchKernels.rows(w, xs, outs, batch, from, to);
            }
        }
    }

    @Override
    public String name() {
        return "vector-f32x%d-%dt".formatted(VectorKernels.L, workers.threads());
    }

    /** Threads that share each product, the caller included. */
    public int threads() {
        return workers.threads();
    }

    /** Stops the workers and waits for them to exit, if this instance made them. */
    @Override
    public void close() {
        closed = true;
        if (ownsWorkers) {
            workers.close();
        }
    }
}
