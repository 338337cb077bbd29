package io.innerq.gguf;

import io.innerq.tensor.GgmlType;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes GGUF files for tests: valid ones (any metadata, any tensors, any alignment) and, through a few low-level
 * hooks, malformed ones.
 *
 * <pre>{@code
 * byte[] gguf = new GgufWriter()
 *         .put("general.architecture", "llama")
 *         .putU32("llama.block_count", 5)
 *         .putArray("tokenizer.ggml.tokens", "<s>", "</s>", "a")
 *         .tensor("token_embd.weight", GgmlType.F32, new long[] {4, 3}, bytes) // 4 columns, 3 rows
 *         .toBytes();
 * }</pre>
 *
 * <p>The writer validates nothing about the file it produces (a shape may disagree with its data, a key may be
 * written twice, an array element may have the wrong width through {@link Value#raw}); it only lays the bytes out as
 * llama.cpp does: header, metadata, tensor table, padding to the alignment, then each tensor's data padded to the
 * alignment. The alignment is that of an integer {@code general.alignment} that is a power of two, else 32.
 *
 * <p>Malformed files: {@link #tensorCount(long)} and {@link #kvCount(long)} replace the counts;
 * {@link #overrideU64(String, long)} and {@link #overrideU32(String, int)} replace any fixed-width field by its label
 * (see {@link Encoded#fields()}); {@link Value.Str#declaredLength(long)} and {@link Value.Arr#declaredCount(long)}
 * write a length or count that disagrees with the content; {@link Value#raw} writes any type id and any bytes;
 * {@link #truncate(long)} cuts the file. Field labels:
 * <ul>
 *   <li>{@code magic}, {@code version}, {@code tensor_count}, {@code kv_count}</li>
 *   <li>{@code kv.KEY.key_length}, {@code kv.KEY.type}, {@code kv.KEY.value}; inside a string value
 *       {@code kv.KEY.value.length}; inside an array value {@code kv.KEY.value.element_type},
 *       {@code kv.KEY.value.count} and {@code kv.KEY.value[i]} for element i (recursively)</li>
 *   <li>{@code tensor.NAME.name_length}, {@code tensor.NAME.n_dims}, {@code tensor.NAME.dim0}...,
 *       {@code tensor.NAME.type}, {@code tensor.NAME.offset}, {@code tensor.NAME.data}</li>
 *   <li>{@code header_end} (before the padding), {@code data} (the data section)</li>
 * </ul>
 * A key or tensor name written a second time gets {@code #2}, {@code #3}... after it in its labels.
 */
public final class GgufWriter {

    public static final int GGUF_MAGIC = 0x46554747; // "GGUF" little-endian
    public static final int DEFAULT_ALIGNMENT = 32;
    public static final String ALIGNMENT_KEY = "general.alignment";

    private int magic = GGUF_MAGIC;
    private int version = 3;
    private Long tensorCountOverride;
    private Long kvCountOverride;
    private long truncateAt = -1;
    private final List<Entry> entries = new ArrayList<>();
    private final List<TensorEntry> tensors = new ArrayList<>();
    private final Map<String, Long> u64Overrides = new LinkedHashMap<>();
    private final Map<String, Integer> u32Overrides = new LinkedHashMap<>();

    private record Entry(String key, Value value) {}

    private record TensorEntry(String name, int typeId, long[] shape, byte[] data) {}

    /** A metadata value as written: a type id and its encoding. Build with the static factories. */
    public sealed interface Value permits Value.Scalar, Value.Str, Value.Arr, Value.Raw {

        /** The GGUF value type id written before the value (in a metadata entry or as an array's element type). */
        int typeId();

        /** A fixed-width scalar; {@code bits} holds the little-endian bit pattern (a float's raw bits). */
        record Scalar(GgufValueType type, long bits) implements Value {
            public Scalar {
                if (type == GgufValueType.STRING || type == GgufValueType.ARRAY) {
                    throw new IllegalArgumentException(type + " is not a scalar type");
                }
            }

            @Override
            public int typeId() {
                return type.ordinal();
            }

            int width() {
                return switch (type) {
                    case UINT8, INT8, BOOL -> 1;
                    case UINT16, INT16 -> 2;
                    case UINT32, INT32, FLOAT32 -> 4;
                    case UINT64, INT64, FLOAT64 -> 8;
                    case STRING, ARRAY -> throw new AssertionError(type);
                };
            }
        }

        /** A string: u64 length (normally {@code bytes.length}) and the bytes. */
        record Str(byte[] bytes, long length) implements Value {
            @Override
            public int typeId() {
                return GgufValueType.STRING.ordinal();
            }

            /** The same bytes under a different length field. */
            public Str declaredLength(long declared) {
                return new Str(bytes, declared);
            }
        }

        /** An array: u32 element type, u64 count (normally {@code elements.size()}), the elements' encodings. */
        record Arr(int elementTypeId, List<Value> elements, long count) implements Value {
            public Arr {
                elements = List.copyOf(elements);
            }

            @Override
            public int typeId() {
                return GgufValueType.ARRAY.ordinal();
            }

            /** The same elements under a different count field. */
            public Arr declaredCount(long declared) {
                return new Arr(elementTypeId, elements, declared);
            }
        }

        /** Any type id followed by any bytes: unknown types, wrong widths, garbage. */
        record Raw(int typeId, byte[] payload) implements Value {}

        static Value u8(int v) {
            return new Scalar(GgufValueType.UINT8, v & 0xffL);
        }

        static Value i8(int v) {
            return new Scalar(GgufValueType.INT8, v & 0xffL);
        }

        static Value u16(int v) {
            return new Scalar(GgufValueType.UINT16, v & 0xffffL);
        }

        static Value i16(int v) {
            return new Scalar(GgufValueType.INT16, v & 0xffffL);
        }

        static Value u32(long v) {
            return new Scalar(GgufValueType.UINT32, v & 0xffff_ffffL);
        }

        static Value i32(int v) {
            return new Scalar(GgufValueType.INT32, v & 0xffff_ffffL);
        }

        static Value u64(long v) {
            return new Scalar(GgufValueType.UINT64, v);
        }

        static Value i64(long v) {
            return new Scalar(GgufValueType.INT64, v);
        }

        static Value f32(float v) {
            return new Scalar(GgufValueType.FLOAT32, Float.floatToRawIntBits(v) & 0xffff_ffffL);
        }

        static Value f64(double v) {
            return new Scalar(GgufValueType.FLOAT64, Double.doubleToRawLongBits(v));
        }

        static Value bool(boolean v) {
            return new Scalar(GgufValueType.BOOL, v ? 1 : 0);
        }

        /** A BOOL whose byte is {@code b} (a reader must reject anything but 0 and 1). */
        static Value boolByte(int b) {
            return new Scalar(GgufValueType.BOOL, b & 0xffL);
        }

        /** A scalar of an integer, float or bool {@code type} holding {@code v} (floats converted). */
        static Value of(GgufValueType type, long v) {
            return switch (type) {
                case UINT8 -> u8((int) v);
                case INT8 -> i8((int) v);
                case UINT16 -> u16((int) v);
                case INT16 -> i16((int) v);
                case UINT32 -> u32(v);
                case INT32 -> i32((int) v);
                case UINT64 -> u64(v);
                case INT64 -> i64(v);
                case FLOAT32 -> f32(v);
                case FLOAT64 -> f64(v);
                case BOOL -> boolByte((int) v);
                case STRING, ARRAY -> throw new IllegalArgumentException(type + " is not a scalar type");
            };
        }

        static Str string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            return new Str(b, b.length);
        }

        /** A string of raw bytes (e.g. not valid UTF-8). */
        static Str string(byte[] bytes) {
            return new Str(bytes.clone(), bytes.length);
        }

        /**
         * An array of {@code elementType}; every element must have that type (or be {@link Raw}). Nest arrays with
         * {@code array(GgufValueType.ARRAY, array(...), array(...))}.
         */
        static Arr array(GgufValueType elementType, Value... elements) {
            for (int i = 0; i < elements.length; i++) {
                Value e = elements[i];
                if (!(e instanceof Raw) && e.typeId() != elementType.ordinal()) {
                    throw new IllegalArgumentException("element %d of a %s array has type id %d"
                            .formatted(i, elementType, e.typeId()));
                }
            }
            return new Arr(elementType.ordinal(), List.of(elements), elements.length);
        }

        /** An array with any element type id, e.g. an unknown one; the elements are written as they are. */
        static Arr arrayOfTypeId(int elementTypeId, Value... elements) {
            return new Arr(elementTypeId, List.of(elements), elements.length);
        }

        static Arr strings(String... values) {
            return array(GgufValueType.STRING, Arrays.stream(values).map(Value::string).toArray(Value[]::new));
        }

        static Arr floats(float... values) {
            Value[] v = new Value[values.length];
            for (int i = 0; i < values.length; i++) {
                v[i] = f32(values[i]);
            }
            return array(GgufValueType.FLOAT32, v);
        }

        /** An array of an integer (or bool, or float) {@code type}. */
        static Arr numbers(GgufValueType type, long... values) {
            return array(type, Arrays.stream(values).mapToObj(x -> of(type, x)).toArray(Value[]::new));
        }

        static Raw raw(int typeId, byte... payload) {
            return new Raw(typeId, payload.clone());
        }
    }

    /** Where a field was written. */
    public record Field(long offset, long size) {}

    /** The bytes of a file and where each field is in them. */
    public record Encoded(byte[] bytes, Map<String, Field> fields) {

        /** Offset of the field labelled {@code label}, see {@link GgufWriter}. */
        public long offset(String label) {
            return field(label).offset();
        }

        public Field field(String label) {
            Field f = fields.get(label);
            if (f == null) {
                throw new IllegalArgumentException("no field '%s'; the fields are %s".formatted(label, fields.keySet()));
            }
            return f;
        }

        /** The first {@code length} bytes. */
        public byte[] prefix(long length) {
            return Arrays.copyOf(bytes, Math.toIntExact(length));
        }
    }

    public GgufWriter version(int version) {
        this.version = version;
        return this;
    }

    public GgufWriter magic(int magic) {
        this.magic = magic;
        return this;
    }

    /** Writes {@code general.alignment} as UINT32; the layout follows it. */
    public GgufWriter alignment(long alignment) {
        return put(ALIGNMENT_KEY, Value.u32(alignment));
    }

    /** Adds a metadata entry. Putting a key twice writes it twice. */
    public GgufWriter put(String key, Value value) {
        entries.add(new Entry(key, value));
        return this;
    }

    public GgufWriter put(String key, String value) {
        return put(key, Value.string(value));
    }

    public GgufWriter put(String key, boolean value) {
        return put(key, Value.bool(value));
    }

    public GgufWriter put(String key, float value) {
        return put(key, Value.f32(value));
    }

    public GgufWriter put(String key, double value) {
        return put(key, Value.f64(value));
    }

    public GgufWriter putU8(String key, int value) {
        return put(key, Value.u8(value));
    }

    public GgufWriter putI8(String key, int value) {
        return put(key, Value.i8(value));
    }

    public GgufWriter putU16(String key, int value) {
        return put(key, Value.u16(value));
    }

    public GgufWriter putI16(String key, int value) {
        return put(key, Value.i16(value));
    }

    public GgufWriter putU32(String key, long value) {
        return put(key, Value.u32(value));
    }

    public GgufWriter putI32(String key, int value) {
        return put(key, Value.i32(value));
    }

    public GgufWriter putU64(String key, long value) {
        return put(key, Value.u64(value));
    }

    public GgufWriter putI64(String key, long value) {
        return put(key, Value.i64(value));
    }

    public GgufWriter putArray(String key, String... values) {
        return put(key, Value.strings(values));
    }

    public GgufWriter putArray(String key, float[] values) {
        return put(key, Value.floats(values));
    }

    /** An array of integers (or floats, or bools) of {@code type}. */
    public GgufWriter putArray(String key, GgufValueType type, long... values) {
        return put(key, Value.numbers(type, values));
    }

    /**
     * Adds a tensor. {@code shape} is in GGML order ({@code shape[0]} is the contiguous dimension) and is written as
     * given, whatever its length; {@code data} is written as given, whatever its size.
     */
    public GgufWriter tensor(String name, GgmlType type, long[] shape, byte[] data) {
        return tensor(name, type.id(), shape, data);
    }

    /** A tensor of any type id, including ones InnerQ does not read. */
    public GgufWriter tensor(String name, int typeId, long[] shape, byte[] data) {
        tensors.add(new TensorEntry(name, typeId, shape.clone(), data.clone()));
        return this;
    }

    /** A tensor filled with {@link #pattern} bytes of exactly the size its shape needs. */
    public GgufWriter tensor(String name, GgmlType type, long... shape) {
        long elements = 1;
        for (long d : shape) {
            elements = Math.multiplyExact(elements, d);
        }
        return tensor(name, type, shape, pattern(name, Math.toIntExact(type.bytesFor(elements))));
    }

    /** {@code n} bytes that differ from tensor to tensor, so a wrong slice shows. */
    public static byte[] pattern(String seed, int n) {
        byte[] b = new byte[n];
        int h = seed.hashCode();
        for (int i = 0; i < n; i++) {
            h = h * 1_103_515_245 + 12_345;
            b[i] = (byte) (h >>> 16);
        }
        return b;
    }

    /** Writes {@code count} as the tensor count instead of the number of tensors. */
    public GgufWriter tensorCount(long count) {
        tensorCountOverride = count;
        return this;
    }

    /** Writes {@code count} as the metadata count instead of the number of entries. */
    public GgufWriter kvCount(long count) {
        kvCountOverride = count;
        return this;
    }

    /** Replaces the 8-byte field labelled {@code label} (see {@link GgufWriter}) after encoding. */
    public GgufWriter overrideU64(String label, long value) {
        u64Overrides.put(label, value);
        return this;
    }

    /** Replaces the 4-byte field labelled {@code label} after encoding. */
    public GgufWriter overrideU32(String label, int value) {
        u32Overrides.put(label, value);
        return this;
    }

    /** Keeps only the first {@code length} bytes of the file. */
    public GgufWriter truncate(long length) {
        truncateAt = length;
        return this;
    }

    public byte[] toBytes() {
        return encode().bytes();
    }

    public Path write(Path path) throws IOException {
        return Files.write(path, toBytes());
    }

    /** The alignment the layout uses: an integer {@code general.alignment} that is a power of two, else 32. */
    public int layoutAlignment() {
        int alignment = DEFAULT_ALIGNMENT;
        for (Entry e : entries) {
            if (e.key.equals(ALIGNMENT_KEY) && e.value instanceof Value.Scalar s && isInteger(s.type())
                    && s.bits() > 0 && s.bits() <= (1 << 20) && Long.bitCount(s.bits()) == 1) {
                alignment = (int) s.bits();
            }
        }
        return alignment;
    }

    private static boolean isInteger(GgufValueType t) {
        return switch (t) {
            case UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64 -> true;
            case FLOAT32, FLOAT64, BOOL, STRING, ARRAY -> false;
        };
    }

    public Encoded encode() {
        int alignment = layoutAlignment();
        var out = new Out();
        var fields = new LinkedHashMap<String, Field>();
        out.field(fields, "magic", 4).u32(magic);
        out.field(fields, "version", 4).u32(version);
        out.field(fields, "tensor_count", 8).u64(tensorCountOverride != null ? tensorCountOverride : tensors.size());
        out.field(fields, "kv_count", 8).u64(kvCountOverride != null ? kvCountOverride : entries.size());

        var seen = new LinkedHashMap<String, Integer>();
        for (Entry e : entries) {
            String label = unique(seen, "kv." + e.key);
            byte[] key = e.key.getBytes(StandardCharsets.UTF_8);
            out.field(fields, label + ".key_length", 8).u64(key.length).bytes(key);
            out.field(fields, label + ".type", 4).u32(e.value.typeId());
            writePayload(out, fields, label + ".value", e.value);
        }

        // data offsets relative to the data section, each tensor's data padded to the alignment
        long[] offsets = new long[tensors.size()];
        long rel = 0;
        for (int i = 0; i < tensors.size(); i++) {
            offsets[i] = rel;
            rel = align(rel + tensors.get(i).data.length, alignment);
        }
        seen.clear();
        String[] labels = new String[tensors.size()];
        for (int i = 0; i < tensors.size(); i++) {
            TensorEntry t = tensors.get(i);
            String label = labels[i] = unique(seen, "tensor." + t.name);
            byte[] name = t.name.getBytes(StandardCharsets.UTF_8);
            out.field(fields, label + ".name_length", 8).u64(name.length).bytes(name);
            out.field(fields, label + ".n_dims", 4).u32(t.shape.length);
            for (int d = 0; d < t.shape.length; d++) {
                out.field(fields, label + ".dim" + d, 8).u64(t.shape[d]);
            }
            out.field(fields, label + ".type", 4).u32(t.typeId);
            out.field(fields, label + ".offset", 8).u64(offsets[i]);
        }
        out.field(fields, "header_end", 0);
        out.pad(alignment);
        long dataStart = out.size();
        for (int i = 0; i < tensors.size(); i++) {
            TensorEntry t = tensors.get(i);
            out.pad(alignment);
            out.field(fields, labels[i] + ".data", t.data.length).bytes(t.data);
        }
        out.pad(alignment);
        fields.put("data", new Field(dataStart, out.size() - dataStart));

        byte[] bytes = out.toArray();
        u64Overrides.forEach((label, v) -> patchU64(bytes, fixed(fields, label, 8), v));
        u32Overrides.forEach((label, v) -> patchU32(bytes, fixed(fields, label, 4), v));
        byte[] result = truncateAt >= 0 ? Arrays.copyOf(bytes, Math.toIntExact(truncateAt)) : bytes;
        return new Encoded(result, Collections.unmodifiableMap(fields));
    }

    private static long fixed(Map<String, Field> fields, String label, int size) {
        Field f = fields.get(label);
        if (f == null || f.size() != size) {
            throw new IllegalArgumentException("no %d-byte field '%s'; the fields are %s"
                    .formatted(size, label, fields.keySet()));
        }
        return f.offset();
    }

    private static String unique(Map<String, Integer> seen, String label) {
        int n = seen.merge(label, 1, Integer::sum);
        return n == 1 ? label : label + "#" + n;
    }

    private static void writePayload(Out out, Map<String, Field> fields, String label, Value value) {
        long start = out.size();
        switch (value) {
            case Value.Scalar s -> out.le(s.bits(), s.width());
            case Value.Str s -> out.field(fields, label + ".length", 8).u64(s.length()).bytes(s.bytes());
            case Value.Arr a -> {
                out.field(fields, label + ".element_type", 4).u32(a.elementTypeId());
                out.field(fields, label + ".count", 8).u64(a.count());
                for (int i = 0; i < a.elements().size(); i++) {
                    writePayload(out, fields, label + "[" + i + "]", a.elements().get(i));
                }
            }
            case Value.Raw r -> out.bytes(r.payload());
        }
        fields.put(label, new Field(start, out.size() - start));
    }

    private static long align(long x, int alignment) {
        return (x + alignment - 1) / alignment * alignment;
    }

    /** Writes {@code v} little-endian at {@code at}. */
    public static void patchU64(byte[] bytes, long at, long v) {
        for (int i = 0; i < 8; i++) {
            bytes[Math.toIntExact(at + i)] = (byte) (v >>> (8 * i));
        }
    }

    /** Writes {@code v} little-endian at {@code at}. */
    public static void patchU32(byte[] bytes, long at, int v) {
        for (int i = 0; i < 4; i++) {
            bytes[Math.toIntExact(at + i)] = (byte) (v >>> (8 * i));
        }
    }

    /** A growable little-endian byte buffer. */
    private static final class Out {
        private byte[] buf = new byte[256];
        private int size;

        int size() {
            return size;
        }

        Out field(Map<String, Field> fields, String label, long width) {
            fields.put(label, new Field(size, width));
            return this;
        }

        Out le(long v, int width) {
            ensure(width);
            for (int i = 0; i < width; i++) {
                buf[size++] = (byte) (v >>> (8 * i));
            }
            return this;
        }

        Out u32(long v) {
            return le(v, 4);
        }

        Out u64(long v) {
            return le(v, 8);
        }

        Out bytes(byte[] b) {
            ensure(b.length);
            System.arraycopy(b, 0, buf, size, b.length);
            size += b.length;
            return this;
        }

        void pad(int alignment) {
            int n = (int) (align(size, alignment) - size);
            ensure(n);
            size += n; // zeros
        }

        private void ensure(int n) {
            if (buf.length - size < n) {
                buf = Arrays.copyOf(buf, Math.max(buf.length * 2, size + n));
            }
        }

        byte[] toArray() {
            return Arrays.copyOf(buf, size);
        }
    }
}
