package io.innerq.gguf;

import io.innerq.tensor.GgmlType;
import io.innerq.tensor.Tensor;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A GGUF file (versions 2 and 3), memory-mapped. The header, metadata and tensor table are parsed eagerly and every
 * length, count, offset and extent is checked against the file before it is used; tensor data stays in the mapping.
 * Closing the file unmaps it: tensors obtained from it must not be used afterwards.
 */
public final class GgufFile implements AutoCloseable {

    static final int MAGIC = 0x46554747; // "GGUF" little-endian
    static final int DEFAULT_ALIGNMENT = 32;
    static final int MAX_DIMS = 4;
    static final int MAX_ARRAY_NESTING = 8;
    static final long MAX_STRING_BYTES = 1L << 24;

    private final String source;
    private final Arena arena;
    private final MemorySegment segment;
    private final int version;
    private final Map<String, Object> metadata;
    /** Byte offset of each metadata value (its type id), for error messages. */
    private final Map<String, Long> metadataOffsets;
    private final Map<String, GgufTensorInfo> tensors;
    /** Byte offset of each tensor's type id in the tensor table, for error messages. */
    private final Map<String, Long> tensorTypeOffsets;
    /** Byte offset of each tensor's entry (its name) in the tensor table, for error messages. */
    private final Map<String, Long> tensorEntryOffsets;
    private final long dataOffset;
    private final int alignment;

    private GgufFile(String source, Arena arena, MemorySegment segment) {
        this.source = source;
        this.arena = arena;
        this.segment = segment;
        var r = new Reader(source, segment);
        int magic = r.i32("magic");
        if (magic != MAGIC) {
            throw new GgufFormatException(source, 0, "magic",
                    "expected 'GGUF' (0x46554747), found 0x%08x: this is not a GGUF file".formatted(magic));
        }
        long at = r.pos;
        version = r.i32("version");
        if (version != 2 && version != 3) {
            int swapped = Integer.reverseBytes(version);
            throw new GgufFormatException(source, at, "version", swapped == 2 || swapped == 3
                    ? "this is a big-endian GGUF file (version %d byte-swapped); InnerQ reads little-endian files only"
                            .formatted(swapped)
                    : "version %s is not supported (InnerQ reads GGUF 2 and 3; convert the model with a current llama.cpp)"
                            .formatted(Integer.toUnsignedString(version)));
        }
        long tensorCount = r.count("tensor count", 8 + 4 + 8 + 4 + 8);
        long kvCount = r.count("metadata count", 8 + 4 + 1);
        var meta = new LinkedHashMap<String, Object>();
        var metaOffsets = new LinkedHashMap<String, Long>();
        var keyOffsets = new LinkedHashMap<String, Long>();
        for (long i = 0; i < kvCount; i++) {
            long keyAt = r.pos;
            String key = r.string("metadata key " + i);
            long valueAt = r.pos;
            Object value = r.value("metadata '" + key + "'", r.valueType("type of metadata '" + key + "'"), 0);
            if (meta.putIfAbsent(key, value) != null) {
                throw new GgufFormatException(source, keyAt, "metadata key " + i,
                        "duplicate key '%s' (first at byte %d)".formatted(key, keyOffsets.get(key)));
            }
            keyOffsets.put(key, keyAt);
            metaOffsets.put(key, valueAt);
        }
        metadata = Collections.unmodifiableMap(meta);
        metadataOffsets = Map.copyOf(metaOffsets);

        long align = DEFAULT_ALIGNMENT;
        Object alignValue = meta.get("general.alignment");
        if (alignValue != null) {
            if (!(alignValue instanceof Long a) || a <= 0 || Long.bitCount(a) != 1 || a > (1 << 20)) {
                throw new GgufFormatException(source, metaOffsets.get("general.alignment"),
                        "metadata 'general.alignment'",
                        "must be an integer power of two between 1 and 2^20, found " + describe(alignValue));
            }
            align = a;
        }
        alignment = (int) align;

        record Raw(String name, long[] shape, int typeId, long relOffset, long at, long typeAt) {}
        var raw = new Raw[(int) tensorCount];
        for (int i = 0; i < tensorCount; i++) {
            long entryAt = r.pos;
            String name = r.string("tensor " + i + " name");
            String field = "tensor '" + name + "'";
            long dimsAt = r.pos;
            int nDims = r.i32(field + " dimension count");
            if (nDims < 1 || nDims > MAX_DIMS) {
                throw new GgufFormatException(source, dimsAt, field + " dimension count",
                        "must be between 1 and " + MAX_DIMS + ", found " + Integer.toUnsignedString(nDims));
            }
            long[] shape = new long[nDims];
            long elements = 1;
            for (int d = 0; d < nDims; d++) {
                long dimAt = r.pos;
                shape[d] = r.i64(field + " dimension " + d);
                if (shape[d] <= 0 || shape[d] > (1L << 40)) {
                    throw new GgufFormatException(source, dimAt, field + " dimension " + d,
                            "must be between 1 and 2^40, found " + Long.toUnsignedString(shape[d]));
                }
                try {
                    elements = Math.multiplyExact(elements, shape[d]);
                } catch (ArithmeticException e) {
                    throw new GgufFormatException(source, dimAt, field + " dimension " + d,
                            "the element count overflows 64 bits");
                }
            }
            long typeAt = r.pos;
            int typeId = r.i32(field + " type");
            long offAt = r.pos;
            long rel = r.i64(field + " offset");
            if (rel < 0 || rel % alignment != 0) {
                throw new GgufFormatException(source, offAt, field + " offset",
                        "must be a non-negative multiple of the alignment %d, found %s"
                                .formatted(alignment, Long.toUnsignedString(rel)));
            }
            raw[i] = new Raw(name, shape, typeId, rel, entryAt, typeAt);
        }
        long headerEnd = r.pos;
        dataOffset = (headerEnd + alignment - 1) / alignment * alignment;

        var table = new LinkedHashMap<String, GgufTensorInfo>();
        var typeOffsets = new LinkedHashMap<String, Long>();
        var entryOffsets = new LinkedHashMap<String, Long>();
        for (Raw t : raw) {
            String field = "tensor '" + t.name + "'";
            GgmlType type = GgmlType.byId(t.typeId);
            long bytes = -1;
            if (type != null) {
                if (t.shape[0] % type.blockSize() != 0) {
                    throw new GgufFormatException(source, t.at, field + " shape",
                            "rows of %d elements are not a whole number of %s blocks of %d"
                                    .formatted(t.shape[0], type, type.blockSize()));
                }
                long elements = 1;
                for (long d : t.shape) {
                    elements *= d; // checked above
                }
                try {
                    bytes = type.bytesFor(elements);
                } catch (ArithmeticException e) {
                    throw new GgufFormatException(source, t.at, field + " shape", "its byte size overflows 64 bits");
                }
            }
            // relOffset >= 0 was checked; compare before adding so that a huge offset cannot overflow
            long start = t.relOffset > segment.byteSize() ? -1 : dataOffset + t.relOffset;
            if (start < 0 || start > segment.byteSize() || (bytes >= 0 && bytes > segment.byteSize() - start)) {
                throw new GgufFormatException(source, t.at, field + " data",
                        "extends past the end of the file (data at offset %d of the data section, which starts at byte %d; %s; the file has %d bytes): the file is truncated or corrupt"
                                .formatted(t.relOffset, dataOffset,
                                        bytes >= 0 ? bytes + " bytes" : "size unknown for " + GgmlType.describeId(t.typeId),
                                        segment.byteSize()));
            }
            if (table.putIfAbsent(t.name, new GgufTensorInfo(t.name, t.shape, t.typeId, type, start, bytes)) != null) {
                throw new GgufFormatException(source, t.at, field,
                        "duplicate tensor name (first at byte %d)".formatted(entryOffsets.get(t.name)));
            }
            entryOffsets.put(t.name, t.at);
            typeOffsets.put(t.name, t.typeAt);
        }
        tensors = Collections.unmodifiableMap(table);
        tensorTypeOffsets = Map.copyOf(typeOffsets);
        tensorEntryOffsets = Map.copyOf(entryOffsets);
    }

    /** Maps and parses a GGUF file. The returned file owns the mapping. */
    public static GgufFile open(Path path) throws IOException {
        Arena arena = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            MemorySegment segment = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
            return new GgufFile(path.toString(), arena, segment);
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /**
     * Reads {@code size} bytes of a GGUF file from {@code in} into memory of its own (32-byte aligned, as a mapping
     * is) and parses them; closing the file frees that memory. For a model that is not a file, such as a resource.
     */
    public static GgufFile read(InputStream in, long size, String source) throws IOException {
        Arena arena = Arena.ofShared();
        try {
            MemorySegment segment = arena.allocate(size, DEFAULT_ALIGNMENT);
            byte[] buffer = new byte[1 << 16];
            long at = 0;
            for (int n; at < size && (n = in.read(buffer, 0, (int) Math.min(buffer.length, size - at))) > 0; at += n) {
                MemorySegment.copy(buffer, 0, segment, ValueLayout.JAVA_BYTE, at, n);
            }
            if (at != size || in.read() >= 0) {
                throw new IOException("%s: expected %d bytes, read %s".formatted(source, size,
                        at != size ? String.valueOf(at) : "more"));
            }
            return new GgufFile(source, arena, segment);
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** Parses GGUF bytes already in memory; the caller keeps ownership of {@code segment}. */
    public static GgufFile parse(MemorySegment segment, String source) {
        return new GgufFile(source, null, segment);
    }

    public String source() {
        return source;
    }

    public int version() {
        return version;
    }

    public int alignment() {
        return alignment;
    }

    /** Absolute offset of the tensor data section. */
    public long dataOffset() {
        return dataOffset;
    }

    public long fileSize() {
        return segment.byteSize();
    }

    /**
     * All metadata in file order. Integers of every width are {@link Long} (unsigned 64-bit values above
     * {@code Long.MAX_VALUE} appear negative), FLOAT32 is {@link Float}, FLOAT64 {@link Double}, BOOL {@link Boolean},
     * STRING {@link String}, ARRAY {@link GgufArray}.
     */
    public Map<String, Object> metadata() {
        return metadata;
    }

    public boolean has(String key) {
        return metadata.containsKey(key);
    }

    public Optional<String> string(String key) {
        return Optional.ofNullable(typed(key, String.class, "a string"));
    }

    public Optional<Long> integer(String key) {
        return Optional.ofNullable(typed(key, Long.class, "an integer"));
    }

    /** An integer that must fit in an int and be at least {@code min}. */
    public Optional<Integer> intValue(String key, int min) {
        return integer(key).map(v -> {
            if (v < min || v > Integer.MAX_VALUE) {
                throw new GgufFormatException(source, metadataOffsets.get(key), "metadata '" + key + "'",
                        "must be between %d and %d, found %d".formatted(min, Integer.MAX_VALUE, v));
            }
            return v.intValue();
        });
    }

    /** A FLOAT32 or FLOAT64 value (integers are accepted too). */
    public Optional<Double> number(String key) {
        Object v = metadata.get(key);
        return switch (v) {
            case null -> Optional.empty();
            case Float f -> Optional.of(f.doubleValue());
            case Double d -> Optional.of(d);
            case Long l -> Optional.of(l.doubleValue());
            default -> throw wrongType(key, "a number", v);
        };
    }

    public Optional<Boolean> bool(String key) {
        return Optional.ofNullable(typed(key, Boolean.class, "a boolean"));
    }

    public Optional<GgufArray> array(String key) {
        return Optional.ofNullable(typed(key, GgufArray.class, "an array"));
    }

    public Optional<String[]> stringArray(String key) {
        return array(key).map(a -> {
            if (!(a.values() instanceof String[] s)) {
                throw wrongType(key, "an array of strings", a);
            }
            return s;
        });
    }

    public Optional<float[]> floatArray(String key) {
        return array(key).map(a -> {
            if (!(a.values() instanceof float[] f)) {
                throw wrongType(key, "an array of FLOAT32", a);
            }
            return f;
        });
    }

    public Optional<int[]> intArray(String key) {
        return array(key).map(a -> {
            if (!(a.values() instanceof int[] i)) {
                throw wrongType(key, "an array of 32-bit integers", a);
            }
            return i;
        });
    }

    private <T> T typed(String key, Class<T> type, String what) {
        Object v = metadata.get(key);
        if (v == null) {
            return null;
        }
        if (!type.isInstance(v)) {
            throw wrongType(key, what, v);
        }
        return type.cast(v);
    }

    private GgufFormatException wrongType(String key, String expected, Object found) {
        return new GgufFormatException(source, metadataOffsets.get(key), "metadata '" + key + "'",
                "expected " + expected + ", found " + describe(found));
    }

    /** A metadata value for an error message: its Java kind and, for scalars, the value. */
    private static String describe(Object value) {
        return switch (value) {
            case GgufArray a -> "an array of " + a.length() + " " + a.elementType();
            case String s -> "the string \"" + (s.length() > 40 ? s.substring(0, 40) + "..." : s) + "\"";
            default -> value.getClass().getSimpleName() + " " + value;
        };
    }

    /** Byte offset of a metadata value (its type id), for error messages; 0 when the key is absent. */
    public long offsetOf(String key) {
        return metadataOffsets.getOrDefault(key, 0L);
    }

    /** Byte offset of a tensor's entry in the tensor table, for error messages; 0 when there is no such tensor. */
    public long tensorEntryOffset(String name) {
        return tensorEntryOffsets.getOrDefault(name, 0L);
    }

    /** The tensor table in file order. */
    public Map<String, GgufTensorInfo> tensorInfos() {
        return tensors;
    }

    public Optional<Tensor> tensor(String name) {
        GgufTensorInfo info = tensors.get(name);
        return info == null ? Optional.empty() : Optional.of(load(info));
    }

    /** The named tensor, or a clear error naming the missing tensor. */
    public Tensor requireTensor(String name) {
        return tensor(name).orElseThrow(() -> new GgufFormatException(source, 0, "tensor '" + name + "'",
                "missing from the file: this is not a complete Llama model"));
    }

    private Tensor load(GgufTensorInfo info) {
        if (info.type() == null) {
            throw new GgufFormatException(source, tensorTypeOffsets.get(info.name()), "tensor '" + info.name() + "' type",
                    "%s is not supported (InnerQ reads F32, F16, BF16, Q8_0, Q4_0, Q4_K and Q6_K); use a model quantized to one of those"
                            .formatted(info.typeName()));
        }
        return new Tensor(info.name(), info.type(), info.shape(), segment.asSlice(info.offset(), info.byteSize()));
    }

    @Override
    public void close() {
        if (arena != null) {
            arena.close();
        }
    }

    /** A bounds-checked little-endian cursor over the file. */
    private static final class Reader {
        private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

        private final String source;
        private final MemorySegment seg;
        long pos;

        Reader(String source, MemorySegment seg) {
            this.source = source;
            this.seg = seg;
        }

        private void need(long n, String field) {
            if (n > seg.byteSize() - pos) {
                throw new GgufFormatException(source, pos, field,
                        "needs %d bytes but the file ends after %d: the file is truncated"
                                .formatted(n, seg.byteSize() - pos));
            }
        }

        int i32(String field) {
            need(4, field);
            int v = seg.get(I32, pos);
            pos += 4;
            return v;
        }

        long i64(String field) {
            need(8, field);
            long v = seg.get(I64, pos);
            pos += 8;
            return v;
        }

        /** A 64-bit count that, with {@code minBytesEach} bytes per item, must fit in the rest of the file. */
        long count(String field, long minBytesEach) {
            long at = pos;
            long n = i64(field);
            if (n < 0 || n > (seg.byteSize() - pos) / minBytesEach || n > Integer.MAX_VALUE - 8) {
                throw new GgufFormatException(source, at, field,
                        "%s entries cannot fit in the %d bytes left in the file: the file is truncated or corrupt".formatted(Long.toUnsignedString(n),
                                seg.byteSize() - pos));
            }
            return n;
        }

        String string(String field) {
            long at = pos;
            long len = i64(field + " length");
            if (len < 0 || len > MAX_STRING_BYTES || len > seg.byteSize() - pos) {
                throw new GgufFormatException(source, at, field + " length",
                        "a string of %s bytes does not fit in the %d bytes left in the file (limit %d)"
                                .formatted(Long.toUnsignedString(len), seg.byteSize() - pos, MAX_STRING_BYTES));
            }
            byte[] bytes = seg.asSlice(pos, len).toArray(ValueLayout.JAVA_BYTE);
            pos += len;
            try {
                return StandardCharsets.UTF_8.newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(java.nio.ByteBuffer.wrap(bytes)).toString();
            } catch (CharacterCodingException e) {
                // Tokenizer vocabularies may hold raw byte pieces; keep them readable instead of failing.
                return new String(bytes, StandardCharsets.ISO_8859_1);
            }
        }

        GgufValueType valueType(String field) {
            long at = pos;
            int id = i32(field);
            GgufValueType t = GgufValueType.byId(id);
            if (t == null) {
                throw new GgufFormatException(source, at, field,
                        "unknown value type " + Integer.toUnsignedString(id) + " (valid: 0 to 12)");
            }
            return t;
        }

        Object value(String field, GgufValueType type, int depth) {
            return switch (type) {
                case UINT8 -> { need(1, field); yield (long) (seg.get(ValueLayout.JAVA_BYTE, pos++) & 0xff); }
                case INT8 -> { need(1, field); yield (long) seg.get(ValueLayout.JAVA_BYTE, pos++); }
                case UINT16 -> { need(2, field); long v = seg.get(I16, pos) & 0xffff; pos += 2; yield v; }
                case INT16 -> { need(2, field); long v = seg.get(I16, pos); pos += 2; yield v; }
                case UINT32 -> Integer.toUnsignedLong(i32(field));
                case INT32 -> (long) i32(field);
                case UINT64, INT64 -> i64(field);
                case FLOAT32 -> { need(4, field); float v = seg.get(F32, pos); pos += 4; yield v; }
                case FLOAT64 -> { need(8, field); double v = seg.get(F64, pos); pos += 8; yield v; }
                case BOOL -> {
                    need(1, field);
                    byte b = seg.get(ValueLayout.JAVA_BYTE, pos);
                    if (b != 0 && b != 1) {
                        throw new GgufFormatException(source, pos, field, "a boolean must be 0 or 1, found " + (b & 0xff));
                    }
                    pos++;
                    yield b == 1;
                }
                case STRING -> string(field);
                case ARRAY -> array(field, depth);
            };
        }

        private GgufArray array(String field, int depth) {
            if (depth >= MAX_ARRAY_NESTING) {
                throw new GgufFormatException(source, pos, field, "arrays nested deeper than " + MAX_ARRAY_NESTING);
            }
            GgufValueType et = valueType(field + " element type");
            int n = (int) count(field + " length", et.minBytes());
            Object values = switch (et) {
                case UINT8, INT8, UINT16, INT16, UINT32, INT32 -> {
                    int[] a = new int[n];
                    for (int i = 0; i < n; i++) {
                        a[i] = (int) (long) (Long) value(field, et, depth);
                    }
                    yield a;
                }
                case UINT64, INT64 -> {
                    long[] a = new long[n];
                    for (int i = 0; i < n; i++) {
                        a[i] = i64(field);
                    }
                    yield a;
                }
                case FLOAT32 -> {
                    float[] a = new float[n];
                    for (int i = 0; i < n; i++) {
                        a[i] = (Float) value(field, et, depth);
                    }
                    yield a;
                }
                case FLOAT64 -> {
                    double[] a = new double[n];
                    for (int i = 0; i < n; i++) {
                        a[i] = (Double) value(field, et, depth);
                    }
                    yield a;
                }
                case BOOL -> {
                    boolean[] a = new boolean[n];
                    for (int i = 0; i < n; i++) {
                        a[i] = (Boolean) value(field, et, depth);
                    }
                    yield a;
                }
                case STRING -> {
                    String[] a = new String[n];
                    for (int i = 0; i < n; i++) {
                        a[i] = string(field + "[" + i + "]");
                    }
                    yield a;
                }
                case ARRAY -> {
                    GgufArray[] a = new GgufArray[n];
                    for (int i = 0; i < n; i++) {
                        a[i] = array(field + "[" + i + "]", depth + 1);
                    }
                    yield a;
                }
            };
            return new GgufArray(et, values);
        }
    }

    /** Tensor names in file order. */
    public List<String> tensorNames() {
        return List.copyOf(tensors.keySet());
    }
}
