package io.innerq.cpu;

import io.innerq.port.out.MatVecPort;
import io.innerq.tensor.Tensor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * {@link MatVecPort} on the Java Vector API ({@link VectorKernels}), rows split across a small persistent pool.
 *
 * <p>With {@code threads} = n the caller and n - 1 daemon workers ({@code innerq-matvec-N}) share each product, so
 * at most n threads are ever busy. Rows are claimed in chunks from one atomic counter: a worker that is late
 * (parked, descheduled) simply finds fewer chunks, and the caller never waits for one that claimed nothing.
 * Idle threads spin for {@link #SPIN_NANOS} and then park. Products under {@link #PARALLEL_MIN_ELEMENTS} weights run
 * on the caller alone, and so do tensors whose segment other threads cannot read (a confined arena's). A call
 * allocates nothing, and a row's result does not depend on which thread computed it.
 *
 * <p>One caller at a time: {@link #matVec} is not re-entrant and a concurrent call fails with
 * {@link IllegalStateException}. {@link #close()} stops the workers.
 */
public final class VectorMatVec implements MatVecPort, AutoCloseable {

    /** Below this many weights, waking workers costs more than it saves. */
    static final long PARALLEL_MIN_ELEMENTS = 32 * 1024;
    /** Weights per claimed chunk, at least: a few microseconds of work, so claims stay cheap. */
    static final int CHUNK_MIN_ELEMENTS = 64 * 1024;
    /** How long an idle thread spins before it parks: covers the gap between the products of one token. */
    static final long SPIN_NANOS = TimeUnit.MICROSECONDS.toNanos(50);

    /** Low half of {@link #state} while a call is being published: no row can be claimed. */
    private static final int PUBLISHING = Integer.MAX_VALUE;

    private final int threads;
    private final Worker[] workers; // [threads - 1]

    // The call in flight. Written by the caller while state is PUBLISHING; a worker trusts what it read only once its
    // claim (a CAS on state, which holds the epoch) succeeds.
    private volatile Tensor w;
    private volatile float[] x;
    private volatile float[] out;
    private volatile float[][] xs;   // matMul: [batch][cols]
    private volatile float[][] outs; // matMul: [batch][rows]
    private volatile int batch;      // 0 for matVec
    private volatile int rows;
    private volatile int chunk;
    private volatile Thread caller;

    /** Epoch of the call (high 32 bits) and next unclaimed row (low 32 bits, or PUBLISHING). */
    private final AtomicLong state = new AtomicLong(PUBLISHING);
    /** Rows of the call in flight that are finished. */
    private final AtomicInteger rowsDone = new AtomicInteger();
    private final AtomicBoolean busy = new AtomicBoolean();
    private volatile boolean callerParked;
    private volatile Throwable failure;
    private volatile boolean closed;

    /** @param threads threads that share each product, the caller included; at least 1 */
    public VectorMatVec(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("VectorMatVec needs at least 1 thread, got " + threads);
        }
        this.threads = threads;
        this.workers = new Worker[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker(this, i + 1);
            workers[i].start();
        }
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
            if (workers.length == 0 || (long) rows * cols < PARALLEL_MIN_ELEMENTS
                    || !w.data().isAccessibleBy(workers[0])) {
                VectorKernels.rows(w, x, out, 0, rows);
            } else {
                runShared(w, x, out, null, null, 0, rows, cols);
            }
        } finally {
            busy.set(false);
        }
    }

    @Override
    public void matMul(Tensor w, float[][] xs, float[][] outs, int n) {
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
            if (workers.length == 0 || (long) rows * cols * n < PARALLEL_MIN_ELEMENTS
                    || !w.data().isAccessibleBy(workers[0])) {
                VectorKernels.rowsBatch(w, xs, outs, n, 0, rows);
            } else {
                runShared(w, null, null, xs, outs, n, rows, cols);
            }
        } finally {
            busy.set(false);
        }
    }

    private void runShared(Tensor w, float[] x, float[] out, float[][] xs, float[][] outs, int batch, int rows,
                           int cols) {
        long epoch = ((state.get() >>> 32) + 1) & 0xFFFF_FFFFL; // wraps after 2^32 calls, harmlessly
        state.set(epoch << 32 | PUBLISHING);
        this.w = w;
        this.x = x;
        this.out = out;
        this.xs = xs;
        this.outs = outs;
        this.batch = batch;
        this.rows = rows;
        long work = (long) cols * Math.max(1, batch);
        this.chunk = (int) Math.clamp((CHUNK_MIN_ELEMENTS + work - 1) / work, 1, Math.max(1, rows / (2 * threads)));
        this.caller = Thread.currentThread();
        rowsDone.set(0);
        state.set(epoch << 32); // open: row 0 is next
        for (Worker worker : workers) {
            if (worker.parked) {
                LockSupport.unpark(worker);
            }
        }
        runChunks(epoch);
        awaitRows(rows);
        Throwable t = failure;
        if (t != null) {
            failure = null;
            throw new IllegalStateException("a matVec worker failed on " + w, t);
        }
    }

    /** Claims and runs chunks of call {@code epoch} until none is left. */
    private void runChunks(long epoch) {
        while (true) {
            long s = state.get();
            int next = (int) s;
            if (s >>> 32 != epoch || next == PUBLISHING) {
                return;
            }
            Tensor w = this.w;
            float[] x = this.x;
            float[] out = this.out;
            float[][] xs = this.xs;
            float[][] outs = this.outs;
            int batch = this.batch;
            int rows = this.rows;
            int end = Math.min(rows, next + chunk);
            if (next >= rows) {
                return;
            }
            if (!state.compareAndSet(s, epoch << 32 | end)) {
                continue;
            }
            // The claim succeeded, so w, x, out and rows were this call's: the caller cannot publish the next call
            // before these rows are counted done.
            try {
                if (batch == 0) {
                    VectorKernels.rows(w, x, out, next, end);
                } else {
                    VectorKernels.rowsBatch(w, xs, outs, batch, next, end);
                }
            } catch (Throwable t) {
                failure = t;
            }
            if (rowsDone.addAndGet(end - next) == rows && callerParked) {
                LockSupport.unpark(caller);
            }
        }
    }

    private void awaitRows(int rows) {
        long spinUntil = System.nanoTime() + SPIN_NANOS;
        while (rowsDone.get() != rows) {
            if (System.nanoTime() < spinUntil) {
                Thread.onSpinWait();
                continue;
            }
            callerParked = true;
            if (rowsDone.get() != rows) {
                LockSupport.park(this);
            }
            callerParked = false;
        }
    }

    @Override
    public String name() {
        return "vector-f32x%d-%dt".formatted(VectorKernels.L, threads);
    }

    /** Threads that share each product, the caller included. */
    public int threads() {
        return threads;
    }

    /** Stops the workers and waits for them to exit. */
    @Override
    public void close() {
        closed = true;
        for (Worker worker : workers) {
            LockSupport.unpark(worker);
        }
        for (Worker worker : workers) {
            try {
                worker.join(TimeUnit.SECONDS.toMillis(1));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static final class Worker extends Thread {
        private final VectorMatVec pool;
        volatile boolean parked;

        Worker(VectorMatVec pool, int n) {
            super("innerq-matvec-" + n);
            this.pool = pool;
            setDaemon(true);
        }

        @Override
        public void run() {
            long done = 0; // epoch of the last call this worker took part in
            long spinUntil = System.nanoTime() + SPIN_NANOS;
            while (!pool.closed) {
                long s = pool.state.get();
                long epoch = s >>> 32;
                if (epoch != done && (int) s != PUBLISHING) {
                    pool.runChunks(epoch);
                    done = epoch;
                    spinUntil = System.nanoTime() + SPIN_NANOS;
                } else if (System.nanoTime() < spinUntil) {
                    Thread.onSpinWait();
                } else {
                    parked = true;
                    if (pool.state.get() == s && !pool.closed) {
                        LockSupport.park(pool);
                        Thread.interrupted(); // nobody should interrupt a worker; if one does, park again
                    }
                    parked = false;
                }
            }
        }
    }
}
