package io.innerq.cache;

/** The checks every cache makes on the positions it is given (public: adapters' caches make the same ones). */
public final class Positions {

    private Positions() {
    }

    public static void checkCapacity(int capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("a KV cache needs a capacity of at least one token, got " + capacity);
        }
    }

    public static void check(int position, int capacity) {
        if (position < 0 || position >= capacity) {
            throw new IndexOutOfBoundsException("position %d outside the cache's %d tokens".formatted(position, capacity));
        }
    }

    /** Caches that move tokens between regions take them strictly in order. */
    public static void checkNext(int layer, int position, int length, int capacity) {
        check(position, capacity);
        if (position != length) {
            throw new IllegalStateException("layer %d stores positions in order: expected position %d, got %d"
                    .formatted(layer, length, position));
        }
    }

    /** ... and attend at the newest position only. */
    public static void checkNewest(int layer, int position, int length) {
        if (position != length - 1) {
            throw new IllegalStateException(("layer %d attends at its newest position %d, got %d: store a position "
                    + "before attending at it").formatted(layer, length - 1, position));
        }
    }
}
