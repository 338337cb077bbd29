package io.innerq.tensor;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * A named tensor in GGML order: {@code shape[0]} is the contiguous (row) dimension. A matrix of
 * {@code shape = [cols, rows]} is {@code rows} rows of {@code cols} elements, each row a whole number of blocks.
 *
 * @param data exactly the tensor's bytes, {@code type.bytesFor(elements())}
 */
public record Tensor(String name, GgmlType type, long[] shape, MemorySegment data) {

    public Tensor {
        shape = shape.clone();
        long elements = 1;
        for (long dim : shape) {
            if (dim <= 0) {
                throw new IllegalArgumentException("tensor '%s' has a non-positive dimension in %s"
                        .formatted(name, Arrays.toString(shape)));
            }
            elements = Math.multiplyExact(elements, dim);
        }
        if (shape[0] % type.blockSize() != 0) {
            throw new IllegalArgumentException("tensor '%s' of type %s has rows of %d elements, not a multiple of %d"
                    .formatted(name, type, shape[0], type.blockSize()));
        }
        if (data.byteSize() != type.bytesFor(elements)) {
            throw new IllegalArgumentException("tensor '%s' holds %d bytes, its shape %s of %s needs %d"
                    .formatted(name, data.byteSize(), Arrays.toString(shape), type, type.bytesFor(elements)));
        }
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public long elements() {
        long n = 1;
        for (long dim : shape) {
            n *= dim;
        }
        return n;
    }

    /** Elements per row ({@code shape[0]}). */
    public int cols() {
        return Math.toIntExact(shape[0]);
    }

    /** Number of rows: the product of all dimensions but the first. */
    public int rows() {
        return Math.toIntExact(elements() / shape[0]);
    }

    /** Bytes per row. */
    public long rowBytes() {
        return type.bytesFor(shape[0]);
    }

    @Override
    public String toString() {
        return "%s %s %s".formatted(name, type, Arrays.toString(shape));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Tensor t && name.equals(t.name) && type == t.type && Arrays.equals(shape, t.shape)
                && data.equals(t.data);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }
}
