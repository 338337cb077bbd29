package io.innerq.tensor;

/**
 * The tensor storage types of GGML/GGUF that InnerQ reads. Each type stores {@code blockSize} elements in
 * {@code blockBytes} bytes; the numeric id is the one written in GGUF files.
 */
public enum GgmlType {
    F32(0, 1, 4),
    F16(1, 1, 2),
    /** 32 elements: fp16 scale d, 16 bytes of 4-bit codes; x = (code - 8) * d. */
    Q4_0(2, 32, 2 + 16),
    /** 32 elements: fp16 scale d, 32 int8 codes; x = code * d. */
    Q8_0(8, 32, 2 + 32),
    /** 256 elements: fp16 d, fp16 dmin, 12 bytes of 6-bit scales and mins, 128 bytes of 4-bit codes. */
    Q4_K(12, 256, 2 + 2 + 12 + 128),
    /** 256 elements: 128 bytes low 4 bits, 64 bytes high 2 bits, 16 int8 scales, fp16 d. */
    Q6_K(14, 256, 128 + 64 + 16 + 2),
    BF16(30, 1, 2);

    private final int id;
    private final int blockSize;
    private final int blockBytes;

    GgmlType(int id, int blockSize, int blockBytes) {
        this.id = id;
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
    }

    public int id() {
        return id;
    }

    /** Elements per block. */
    public int blockSize() {
        return blockSize;
    }

    /** Bytes per block. */
    public int blockBytes() {
        return blockBytes;
    }

    /** Bytes taken by {@code elements} elements, which must be a whole number of blocks. */
    public long bytesFor(long elements) {
        if (elements % blockSize != 0) {
            throw new IllegalArgumentException(
                    "%d elements are not a whole number of %s blocks of %d".formatted(elements, this, blockSize));
        }
        return Math.multiplyExact(elements / blockSize, (long) blockBytes);
    }

    /** The type with GGUF id {@code id}, or null when InnerQ does not support it. */
    public static GgmlType byId(int id) {
        for (GgmlType t : values()) {
            if (t.id == id) {
                return t;
            }
        }
        return null;
    }

    /** GGML's name of an unsupported type id, for error messages. */
    public static String describeId(int id) {
        GgmlType t = byId(id);
        if (t != null) {
            return t.name();
        }
        return switch (id) {
            case 3 -> "Q4_1";
            case 6 -> "Q5_0";
            case 7 -> "Q5_1";
            case 9 -> "Q8_1";
            case 10 -> "Q2_K";
            case 11 -> "Q3_K";
            case 13 -> "Q5_K";
            case 15 -> "Q8_K";
            case 16, 17, 18, 19, 20, 21, 22, 23, 29 -> "an IQ type (" + id + ")";
            case 24 -> "I8";
            case 25 -> "I16";
            case 26 -> "I32";
            case 27 -> "I64";
            case 28 -> "F64";
            default -> "unknown type " + id;
        };
    }
}
