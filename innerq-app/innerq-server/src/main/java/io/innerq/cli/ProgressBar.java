package io.innerq.cli;

import java.io.PrintStream;

/** A one-line progress bar on stderr for long work: redrawn in place, at most a few times a second. */
final class ProgressBar {

    private static final int WIDTH = 30;

    private final PrintStream err;
    private final String unit;
    private final int total;
    private final long start = System.nanoTime();
    private long lastDraw;

    ProgressBar(PrintStream err, String unit, int total) {
        this.err = err;
        this.unit = unit;
        this.total = Math.max(1, total);
    }

    void update(int done) {
        long now = System.nanoTime();
        if (done < total && now - lastDraw < 200_000_000L) {
            return;
        }
        lastDraw = now;
        int filled = (int) ((long) WIDTH * done / total);
        double elapsed = (now - start) / 1e9;
        double eta = done > 0 ? elapsed * (total - done) / done : 0;
        err.printf("\r[%s%s] %d/%d %s, %.0f s elapsed, %.0f s left ", "#".repeat(filled), ".".repeat(WIDTH - filled),
                done, total, unit, elapsed, eta);
        err.flush();
    }

    void finish() {
        update(total);
        err.println();
    }
}
