package io.innerq.gguf;

/**
 * A GGUF array value. {@code values} is a primitive array for numeric element types ({@code int[]} for integers of
 * up to 32 bits, {@code long[]} for 64-bit integers, {@code float[]}, {@code double[]}, {@code boolean[]}), a
 * {@code String[]} for strings and a {@code GgufArray[]} for nested arrays.
 */
public record GgufArray(GgufValueType elementType, Object values) {

    public int length() {
        return java.lang.reflect.Array.getLength(values);
    }
}
