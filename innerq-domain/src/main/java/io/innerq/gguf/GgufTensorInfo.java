package io.innerq.gguf;

import io.innerq.tensor.GgmlType;

/**
 * One entry of the tensor table. {@code type} is null when the file's type id is not one InnerQ reads.
 *
 * @param shape  GGML order: {@code shape[0]} is the contiguous dimension
 * @param offset absolute byte offset of the data in the file
 */
public record GgufTensorInfo(String name, long[] shape, int typeId, GgmlType type, long offset, long byteSize) {

    public GgufTensorInfo {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public long elements() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    public String typeName() {
        return GgmlType.describeId(typeId);
    }
}
