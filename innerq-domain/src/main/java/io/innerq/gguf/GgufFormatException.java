package io.innerq.gguf;

/**
 * A GGUF file is malformed or unsupported. The message names the file, the byte offset and the field, and says what
 * was expected.
 */
public final class GgufFormatException extends RuntimeException {

    private final long offset;
    private final String field;

    public GgufFormatException(String source, long offset, String field, String problem) {
        super("%s: at byte %d, %s: %s".formatted(source, offset, field, problem));
        this.offset = offset;
        this.field = field;
    }

    /** Byte offset in the file where the problem was found. */
    public long offset() {
        return offset;
    }

    /** The field being read, e.g. {@code "tensor 'output.weight' dimension 1"}. */
    public String field() {
        return field;
    }
}
