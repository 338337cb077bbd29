package io.innerq.gguf;

/** Metadata value types of the GGUF format, by their ids in the file. */
public enum GgufValueType {
    UINT8(1), INT8(1), UINT16(2), INT16(2), UINT32(4), INT32(4), FLOAT32(4), BOOL(1), STRING(8), ARRAY(12),
    UINT64(8), INT64(8), FLOAT64(8);

    /** Smallest encoded size of one value, used to bound counts before allocating. */
    private final int minBytes;

    GgufValueType(int minBytes) {
        this.minBytes = minBytes;
    }

    int minBytes() {
        return minBytes;
    }

    static GgufValueType byId(int id) {
        GgufValueType[] all = values();
        return id >= 0 && id < all.length ? all[id] : null;
    }
}
