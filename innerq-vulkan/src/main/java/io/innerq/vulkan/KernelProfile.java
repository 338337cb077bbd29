package io.innerq.vulkan;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * GPU time per kernel kind, for benchmarks: while a {@link CommandBatch} has a profile, it puts a barrier and a
 * timestamp after every dispatch and copy (so kernels no longer overlap: the sum can exceed an unprofiled run's time)
 * and after the barrier that opens each further part of a submission ({@link CommandBatch#submitAndContinue}); the
 * time from one timestamp to the next is the command's (or, for a part, the time the GPU waited for it). Owns its
 * queries.
 */
final class KernelProfile implements AutoCloseable {

    /** Label of the time before a further part of a submission started (the GPU waiting for the host). */
    static final String BETWEEN_PARTS = "(waiting for the next part)";
    /** Timestamps one submission may write. */
    private static final int CAPACITY = 8192;

    /** One kernel kind: GPU nanoseconds and commands, summed over the submissions collected. */
    record Kind(String label, double nanos, int commands) {
    }

    private final TimestampQueries queries;
    private final String[] labels = new String[CAPACITY];
    private int written;                                       // timestamps of the submission being recorded
    private final Map<String, double[]> totals = new LinkedHashMap<>(); // label -> {nanos, commands}
    private int submissions;

    KernelProfile(VulkanDevice device) {
        this.queries = new TimestampQueries(device, CAPACITY);
    }

    TimestampQueries queries() {
        return queries;
    }

    static int capacity() {
        return CAPACITY;
    }

    /** Starts a submission: the next timestamp is its first (index 0). */
    void started() {
        written = 0;
    }

    /** The index of the next timestamp, labelled {@code label}. */
    int next(String label) {
        if (written == CAPACITY) {
            throw new IllegalStateException("a profiled submission writes at most " + CAPACITY + " timestamps");
        }
        labels[written] = label;
        return written++;
    }

    /** Adds the submission that just ended (after submitAndWait) to the totals. */
    void collect() {
        if (written < 2) {
            return;
        }
        double[] t = queries.readNanos(0, written);
        for (int i = 1; i < written; i++) {
            double[] total = totals.computeIfAbsent(labels[i], k -> new double[2]);
            total[0] += t[i] - t[i - 1];
            total[1]++;
        }
        submissions++;
    }

    /** Submissions collected so far. */
    int submissions() {
        return submissions;
    }

    /** The kinds collected, largest time first. */
    List<Kind> kinds() {
        List<Kind> kinds = new ArrayList<>();
        totals.forEach((label, t) -> kinds.add(new Kind(label, t[0], (int) t[1])));
        kinds.sort((a, b) -> Double.compare(b.nanos(), a.nanos()));
        return kinds;
    }

    @Override
    public void close() {
        queries.close();
    }
}
