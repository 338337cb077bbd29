package io.innerq.gguf;

import java.util.Objects;

/**
 * A metadata value to write to a GGUF file: its {@link GgufValueType} and its content, checked on construction
 * (an integer must fit its width, an array's Java values must match its element type). {@link GgufFile} reads each
 * of them back as the same Java value ({@code Long} for every integer type, {@code Float}, {@code Double},
 * {@code Boolean}, {@code String}, {@link GgufArray}).
 */
public sealed interface GgufValue {

    GgufValueType type();

    /** An integer of one of the eight integer types; UINT64 holds its 64 bits in {@code value} (unsigned). */
    record Int(GgufValueType type, long value) implements GgufValue {
        public Int {
            long[] range = switch (type) {
                case UINT8 -> new long[] {0, 0xff};
                case INT8 -> new long[] {Byte.MIN_VALUE, Byte.MAX_VALUE};
                case UINT16 -> new long[] {0, 0xffff};
                case INT16 -> new long[] {Short.MIN_VALUE, Short.MAX_VALUE};
                case UINT32 -> new long[] {0, 0xffff_ffffL};
                case INT32 -> new long[] {Integer.MIN_VALUE, Integer.MAX_VALUE};
                case UINT64, INT64 -> new long[] {Long.MIN_VALUE, Long.MAX_VALUE};
                case FLOAT32, FLOAT64, BOOL, STRING, ARRAY ->
                        throw new IllegalArgumentException(type + " is not an integer type");
            };
            if (value < range[0] || value > range[1]) {
                throw new IllegalArgumentException("%d does not fit %s".formatted(value, type));
            }
        }
    }

    record F32(float value) implements GgufValue {
        @Override
        public GgufValueType type() {
            return GgufValueType.FLOAT32;
        }
    }

    record F64(double value) implements GgufValue {
        @Override
        public GgufValueType type() {
            return GgufValueType.FLOAT64;
        }
    }

    record Bool(boolean value) implements GgufValue {
        @Override
        public GgufValueType type() {
            return GgufValueType.BOOL;
        }
    }

    /** A string, written as its UTF-8 bytes. */
    record Str(String value) implements GgufValue {
        public Str {
            Objects.requireNonNull(value, "value");
        }

        @Override
        public GgufValueType type() {
            return GgufValueType.STRING;
        }
    }

    /**
     * An array, in the reader's form: {@code int[]} for integers of up to 32 bits (UINT32 as their bits),
     * {@code long[]} for 64-bit integers, {@code float[]}, {@code double[]}, {@code boolean[]}, {@code String[]},
     * {@code GgufArray[]} for nested arrays. The array is not copied.
     */
    record Arr(GgufArray array) implements GgufValue {
        public Arr {
            check(array, 0);
        }

        @Override
        public GgufValueType type() {
            return GgufValueType.ARRAY;
        }

        private static void check(GgufArray a, int depth) {
            if (depth > GgufFile.MAX_ARRAY_NESTING) {
                throw new IllegalArgumentException("arrays nest deeper than " + GgufFile.MAX_ARRAY_NESTING);
            }
            Object v = Objects.requireNonNull(a.values(), "array values");
            boolean fits = switch (a.elementType()) {
                case UINT8, INT8, UINT16, INT16, UINT32, INT32 -> v instanceof int[];
                case UINT64, INT64 -> v instanceof long[];
                case FLOAT32 -> v instanceof float[];
                case FLOAT64 -> v instanceof double[];
                case BOOL -> v instanceof boolean[];
                case STRING -> v instanceof String[];
                case ARRAY -> v instanceof GgufArray[];
            };
            if (!fits) {
                throw new IllegalArgumentException("an array of %s cannot hold a %s"
                        .formatted(a.elementType(), v.getClass().getSimpleName()));
            }
            switch (v) {
                case int[] ints when a.elementType() != GgufValueType.UINT32 -> {
                    for (int x : ints) {
                        new Int(a.elementType(), x); // range check
                    }
                }
                case String[] strings -> {
                    for (int i = 0; i < strings.length; i++) {
                        Objects.requireNonNull(strings[i], "string " + i);
                    }
                }
                case GgufArray[] nested -> {
                    for (GgufArray n : nested) {
                        check(Objects.requireNonNull(n, "nested array"), depth + 1);
                    }
                }
                default -> {
                }
            }
        }
    }

    static GgufValue u8(int v) {
        return new Int(GgufValueType.UINT8, v);
    }

    static GgufValue i8(int v) {
        return new Int(GgufValueType.INT8, v);
    }

    static GgufValue u16(int v) {
        return new Int(GgufValueType.UINT16, v);
    }

    static GgufValue i16(int v) {
        return new Int(GgufValueType.INT16, v);
    }

    static GgufValue u32(long v) {
        return new Int(GgufValueType.UINT32, v);
    }

    static GgufValue i32(int v) {
        return new Int(GgufValueType.INT32, v);
    }

    /** A UINT64 of the bits of {@code v}. */
    static GgufValue u64(long v) {
        return new Int(GgufValueType.UINT64, v);
    }

    static GgufValue i64(long v) {
        return new Int(GgufValueType.INT64, v);
    }

    static GgufValue f32(float v) {
        return new F32(v);
    }

    static GgufValue f64(double v) {
        return new F64(v);
    }

    static GgufValue bool(boolean v) {
        return new Bool(v);
    }

    static GgufValue string(String v) {
        return new Str(v);
    }

    static GgufValue strings(String... values) {
        return new Arr(new GgufArray(GgufValueType.STRING, values));
    }

    static GgufValue floats(float... values) {
        return new Arr(new GgufArray(GgufValueType.FLOAT32, values));
    }

    /** An INT32 array. */
    static GgufValue ints(int... values) {
        return new Arr(new GgufArray(GgufValueType.INT32, values));
    }

    static GgufValue array(GgufArray array) {
        return new Arr(array);
    }
}
