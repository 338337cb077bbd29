package io.innerq.cpu;

/**
 * How the caches' {@code attend} shares the CPU threads: the KV heads are independent (their query heads, score rows
 * and outputs are disjoint), so a call's KV heads become tasks of {@link CpuWorkers#run}. Calls over fewer than
 * {@code minElements} cached elements ({@code tokens x kvDim}) run on the caller alone: waking workers would cost
 * more than it saves.
 *
 * @param workers     the backend's threads, or null for the caller alone
 * @param minElements cached elements from which a call is split
 */
record AttendThreads(CpuWorkers workers, long minElements) {

    /** Below this many cached elements (tokens x kvDim), one call runs on the caller. */
    static final long PARALLEL_MIN_ELEMENTS = 32 * 1024;

    /** The caller alone. */
    static final AttendThreads SINGLE = new AttendThreads(null, Long.MAX_VALUE);

    /** Threads that may share a call, the caller included. */
    int threads() {
        return workers == null ? 1 : workers.threads();
    }

    /**
     * Whether a call over {@code elements} cached elements is split; never inside a task of the workers (an
     * attention that already runs beside others, {@link VectorKvCaches#attendApart}).
     */
    boolean split(long elements) {
        return workers != null && workers.threads() > 1 && elements >= minElements && !workers.inCall();
    }

    /** Runs {@code task} for {@code tasks} indices: on the threads if {@code elements} is large enough. */
    void run(int tasks, long elements, CpuWorkers.Task task) {
        if (split(elements) && tasks > 1) {
            workers.run(tasks, task);
        } else {
            for (int i = 0; i < tasks; i++) {
                task.run(i);
            }
        }
    }
}
