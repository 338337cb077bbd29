package io.innerq.serving;

/**
 * The bytes of KV cache that running generations may hold together ({@code spring.ai.innerq.kv.budget}). A generation is
 * charged its planned bytes when it is admitted and credited when it ends, however it ends.
 */
final class KvBudget {

    private final long budget;
    private long reserved;   // guarded by this
    private int holders;     // guarded by this

    KvBudget(long budget) {
        this.budget = budget;
    }

    long budget() {
        return budget;
    }

    synchronized long reserved() {
        return reserved;
    }

    /** Charges {@code bytes}; null when they do not fit next to what is reserved now. */
    synchronized Reservation tryReserve(long bytes) {
        if (bytes > budget - reserved) {
            return null;
        }
        reserved += bytes;
        holders++;
        return new Reservation(bytes);
    }

    /** A human description of what is held now, for error messages. */
    synchronized String describeUse() {
        return "%s is reserved by %d running generation%s".formatted(Bytes.format(reserved), holders,
                holders == 1 ? "" : "s");
    }

    private synchronized void release(long bytes) {
        reserved -= bytes;
        holders--;
    }

    /** Bytes charged to one generation; closing credits them back, once. */
    final class Reservation implements AutoCloseable {
        private final long bytes;
        private boolean released;

        private Reservation(long bytes) {
            this.bytes = bytes;
        }

        @Override
        public void close() {
            synchronized (KvBudget.this) {
                if (!released) {
                    released = true;
                    release(bytes);
                }
            }
        }
    }
}
