package io.innerq.cpu;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The CPU backend's threads: a parallel-for over a small persistent pool, shared by the matrix products
 * ({@link VectorMatVec}) and the attention ({@link VectorKvCaches}), which the generation thread calls in turn.
 *
 * <p>With {@code threads} = n the caller and n - 1 daemon workers ({@code innerq-cpu-N}) share each {@link #run},
 * so at most n threads are ever busy. Tasks are claimed one at a time from one atomic counter: a worker that is late
 * (parked, descheduled) simply finds fewer tasks, and the caller never waits for one that claimed nothing. Idle
 * threads spin for {@link #SPIN_NANOS} and then park. A call allocates nothing: the {@link Task} is an object the
 * caller made once, whose fields carry the call's arguments (written before {@code run}, read by the workers after it
 * publishes them).
 *
 * <p>One caller at a time: {@link #run} is not re-entrant (a task must not call it) and a concurrent call fails with
 * {@link IllegalStateException}. {@link #close()} stops the workers; the one who made the workers closes them.
 */
public final class CpuWorkers implements AutoCloseable {

    /** Work split into tasks {@code 0 .. count - 1}; task i's result must not depend on which thread runs it. */
    @FunctionalInterface
    interface Task {
        void run(int index);
    }

    /** How long an idle thread spins before it parks: covers the gap between the products of one token. */
    static final long SPIN_NANOS = TimeUnit.MICROSECONDS.toNanos(50);

    /** Low half of {@link #state} while a call is being published: no task can be claimed. */
    private static final int PUBLISHING = Integer.MAX_VALUE;

    private final int threads;
    private final Worker[] workers; // [threads - 1]

    // The call in flight. Written by the caller while state is PUBLISHING; a worker trusts what it read only once its
    // claim (a CAS on state, which holds the epoch) succeeds.
    private volatile Task task;
    private volatile int count;
    private volatile Thread caller;

    /** Epoch of the call (high 32 bits) and next unclaimed task (low 32 bits, or PUBLISHING). */
    private final AtomicLong state = new AtomicLong(PUBLISHING);
    /** Tasks of the call in flight that are finished. */
    private final AtomicInteger tasksDone = new AtomicInteger();
    private final AtomicBoolean busy = new AtomicBoolean();
    private volatile boolean callerParked;
    private volatile Throwable failure;
    private volatile boolean closed;

    /** @param threads threads that share each call, the caller included; at least 1 */
    public CpuWorkers(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("CpuWorkers needs at least 1 thread, got " + threads);
        }
        this.threads = threads;
        this.workers = new Worker[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker(this, i + 1);
            workers[i].start();
        }
    }

    /** Threads that share each call, the caller included. */
    public int threads() {
        return threads;
    }

    /** Whether the workers can read {@code segment} (a confined arena's cannot): else run on the caller alone. */
    boolean canShare(MemorySegment segment) {
        return workers.length > 0 && segment.isAccessibleBy(workers[0]);
    }

    /**
     * Runs {@code task} for every index in {@code [0, count)}, on the caller and the workers, and returns when all
     * are done. A task that throws fails the call with {@link IllegalStateException} once the others are done.
     */
    void run(int count, Task task) {
        if (closed) {
            throw new IllegalStateException("CPU workers (" + threads + " threads) are closed");
        }
        if (!busy.compareAndSet(false, true)) {
            throw new IllegalStateException("CPU workers are already in a call: they take one caller at a time");
        }
        try {
            if (workers.length == 0 || count == 1) {
                for (int i = 0; i < count; i++) {
                    task.run(i);
                }
            } else if (count > 0) {
                runShared(count, task);
            }
        } finally {
            busy.set(false);
        }
    }

    private void runShared(int count, Task task) {
        long epoch = ((state.get() >>> 32) + 1) & 0xFFFF_FFFFL; // wraps after 2^32 calls, harmlessly
        state.set(epoch << 32 | PUBLISHING);
        this.task = task;
        this.count = count;
        this.caller = Thread.currentThread();
        tasksDone.set(0);
        state.set(epoch << 32); // open: task 0 is next
        for (Worker worker : workers) {
            if (worker.parked) {
                LockSupport.unpark(worker);
            }
        }
        runTasks(epoch);
        awaitTasks(count);
        Throwable t = failure;
        if (t != null) {
            failure = null;
            throw new IllegalStateException("a CPU worker task failed", t);
        }
    }

    /** Claims and runs tasks of call {@code epoch} until none is left. */
    private void runTasks(long epoch) {
        while (true) {
            long s = state.get();
            int next = (int) s;
            if (s >>> 32 != epoch || next == PUBLISHING) {
                return;
            }
            Task task = this.task;
            int count = this.count;
            if (next >= count) {
                return;
            }
            if (!state.compareAndSet(s, epoch << 32 | (next + 1))) {
                continue;
            }
            // The claim succeeded, so task and count were this call's: the caller cannot publish the next call
            // before this task is counted done.
            try {
                task.run(next);
            } catch (Throwable t) {
                failure = t;
            }
            if (tasksDone.incrementAndGet() == count && callerParked) {
                LockSupport.unpark(caller);
            }
        }
    }

    private void awaitTasks(int count) {
        long spinUntil = System.nanoTime() + SPIN_NANOS;
        while (tasksDone.get() != count) {
            if (System.nanoTime() < spinUntil) {
                Thread.onSpinWait();
                continue;
            }
            callerParked = true;
            if (tasksDone.get() != count) {
                LockSupport.park(this);
            }
            callerParked = false;
        }
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

    boolean closed() {
        return closed;
    }

    /** Whether a call is in flight: true inside its tasks, where another call would fail. */
    boolean inCall() {
        return busy.get();
    }

    private static final class Worker extends Thread {
        private final CpuWorkers pool;
        volatile boolean parked;

        Worker(CpuWorkers pool, int n) {
            super("innerq-cpu-" + n);
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
                    pool.runTasks(epoch);
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
