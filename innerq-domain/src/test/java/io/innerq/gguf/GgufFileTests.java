package io.innerq.gguf;

import io.innerq.gguf.GgufWriter.Value;
import io.innerq.tensor.GgmlType;
import io.innerq.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class GgufFileTests {

    // w: F32 [4 cols, 2 rows] = 32 bytes; q: Q8_0 [64 cols, 3 rows] = 2 blocks * 34 bytes * 3 rows = 204 bytes
    private static final byte[] W = GgufWriter.pattern("w", 32);
    private static final byte[] Q = GgufWriter.pattern("q", 204);

    private static GgufWriter small() {
        return new GgufWriter()
                .put("general.architecture", "llama")
                .putU32("llama.block_count", 5)
                .putArray("tokenizer.ggml.tokens", "<s>", "</s>", "a")
                .tensor("w", GgmlType.F32, new long[] {4, 2}, W)
                .tensor("q", GgmlType.Q8_0, new long[] {64, 3}, Q);
    }

    private static GgufFile parse(byte[] bytes) {
        return GgufFile.parse(MemorySegment.ofArray(bytes), "test.gguf");
    }

    private static byte[] bytesOf(Tensor t) {
        return t.data().toArray(ValueLayout.JAVA_BYTE);
    }

    @Test
    void roundTripInMemory() {
        GgufWriter.Encoded enc = small().encode();
        GgufFile f = parse(enc.bytes());

        assertThat(f.source()).isEqualTo("test.gguf");
        assertThat(f.version()).isEqualTo(3);
        assertThat(f.alignment()).isEqualTo(32);
        assertThat(f.fileSize()).isEqualTo(enc.bytes().length);
        assertThat(f.dataOffset()).isEqualTo(enc.offset("data")).isEqualTo((enc.offset("header_end") + 31) / 32 * 32);
        assertThat(f.metadata()).containsOnlyKeys("general.architecture", "llama.block_count", "tokenizer.ggml.tokens");
        assertThat(f.string("general.architecture")).hasValue("llama");
        assertThat(f.integer("llama.block_count")).hasValue(5L);
        assertThat(f.stringArray("tokenizer.ggml.tokens")).hasValueSatisfying(
                t -> assertThat(t).containsExactly("<s>", "</s>", "a"));
        assertThat(f.tensorNames()).containsExactly("w", "q");

        GgufTensorInfo w = f.tensorInfos().get("w");
        assertThat(w.shape()).containsExactly(4, 2);
        assertThat(w.type()).isEqualTo(GgmlType.F32);
        assertThat(w.elements()).isEqualTo(8);
        assertThat(w.byteSize()).isEqualTo(32);
        assertThat(w.offset()).isEqualTo(enc.offset("tensor.w.data"));
        GgufTensorInfo q = f.tensorInfos().get("q");
        assertThat(q.offset()).isEqualTo(enc.offset("tensor.q.data")).isEqualTo(f.dataOffset() + 32);
        assertThat(q.byteSize()).isEqualTo(204);

        Tensor qt = f.requireTensor("q");
        assertThat(qt.type()).isEqualTo(GgmlType.Q8_0);
        assertThat(qt.shape()).containsExactly(64, 3);
        assertThat(qt.rows()).isEqualTo(3);
        assertThat(bytesOf(qt)).isEqualTo(Q);
        assertThat(bytesOf(f.requireTensor("w"))).isEqualTo(W);
    }

    @Test
    void roundTripThroughAFile(@TempDir Path dir) throws IOException {
        Path path = small().write(dir.resolve("small.gguf"));
        MemorySegment data;
        try (GgufFile f = GgufFile.open(path)) {
            assertThat(f.source()).isEqualTo(path.toString());
            assertThat(f.string("general.architecture")).hasValue("llama");
            assertThat(f.tensorNames()).containsExactly("w", "q");
            Tensor w = f.requireTensor("w");
            assertThat(w.shape()).containsExactly(4, 2);
            assertThat(bytesOf(w)).isEqualTo(W);
            assertThat(bytesOf(f.requireTensor("q"))).isEqualTo(Q);
            data = w.data();
        }
        // closing the file unmaps it: its tensors are no longer usable
        assertThatThrownBy(() -> data.get(ValueLayout.JAVA_BYTE, 0)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void openingAMalformedFileFailsWithTheFileNameAndReleasesTheMapping(@TempDir Path dir) throws IOException {
        Path path = new GgufWriter().version(4).write(dir.resolve("v4.gguf"));
        assertThatThrownBy(() -> GgufFile.open(path))
                .isInstanceOf(GgufFormatException.class)
                .hasMessageStartingWith(path + ": at byte 4, version: version 4 is not supported");
        Path empty = new GgufWriter().truncate(0).write(dir.resolve("empty.gguf"));
        assertThatThrownBy(() -> GgufFile.open(empty))
                .isInstanceOf(GgufFormatException.class)
                .hasMessageContaining("at byte 0, magic: needs 4 bytes but the file ends after 0");
    }

    @Test
    void version2IsReadLikeVersion3() {
        GgufFile f = parse(small().version(2).toBytes());
        assertThat(f.version()).isEqualTo(2);
        assertThat(f.string("general.architecture")).hasValue("llama");
        assertThat(bytesOf(f.requireTensor("q"))).isEqualTo(Q);
    }

    @Test
    void aFileWithoutMetadataOrTensorsIsValid() {
        GgufFile f = parse(new GgufWriter().toBytes());
        assertThat(f.metadata()).isEmpty();
        assertThat(f.tensorInfos()).isEmpty();
        assertThat(f.dataOffset()).isEqualTo(32);
    }

    @Test
    void everyScalarTypeIsReadWithItsDocumentedJavaType() {
        GgufFile f = parse(new GgufWriter()
                .putU8("u8", 255)
                .putI8("i8", -128)
                .putU16("u16", 65535)
                .putI16("i16", -32768)
                .putU32("u32", 0xffff_ffffL)
                .putI32("i32", Integer.MIN_VALUE)
                .putU64("u64", -1L) // 2^64 - 1
                .putI64("i64", Long.MIN_VALUE)
                .put("f32", 1.5f)
                .put("f64", -2.25e300)
                .put("yes", true)
                .put("no", false)
                .put("str", "héllo, 世界 🦙")
                .put("empty", "")
                .toBytes());

        assertThat(f.metadata()).containsExactly(
                java.util.Map.entry("u8", 255L),
                java.util.Map.entry("i8", -128L),
                java.util.Map.entry("u16", 65535L),
                java.util.Map.entry("i16", -32768L),
                java.util.Map.entry("u32", 0xffff_ffffL),
                java.util.Map.entry("i32", (long) Integer.MIN_VALUE),
                java.util.Map.entry("u64", -1L),
                java.util.Map.entry("i64", Long.MIN_VALUE),
                java.util.Map.entry("f32", 1.5f),
                java.util.Map.entry("f64", -2.25e300),
                java.util.Map.entry("yes", true),
                java.util.Map.entry("no", false),
                java.util.Map.entry("str", "héllo, 世界 🦙"),
                java.util.Map.entry("empty", ""));
    }

    @Test
    void aStringThatIsNotUtf8IsKeptByteForByteAsLatin1() {
        byte[] raw = {'a', (byte) 0xff, (byte) 0xc3, 'b'}; // 0xff never occurs in UTF-8
        GgufFile f = parse(new GgufWriter().put("piece", Value.string(raw)).toBytes());
        assertThat(f.string("piece")).hasValue("a\u00ff\u00c3b");
        assertThat(f.string("piece").orElseThrow().getBytes(StandardCharsets.ISO_8859_1)).isEqualTo(raw);
    }

    @Test
    void everyArrayElementTypeIsReadAsItsDocumentedJavaArray() {
        GgufFile f = parse(new GgufWriter()
                .putArray("u8", GgufValueType.UINT8, 0, 255)
                .putArray("i8", GgufValueType.INT8, -1, 127)
                .putArray("u16", GgufValueType.UINT16, 65535)
                .putArray("i16", GgufValueType.INT16, -2)
                .putArray("u32", GgufValueType.UINT32, 7, 0xffff_ffffL)
                .putArray("i32", GgufValueType.INT32, -3, Integer.MAX_VALUE)
                .putArray("u64", GgufValueType.UINT64, -1L, 1L << 40)
                .putArray("i64", GgufValueType.INT64, Long.MIN_VALUE)
                .putArray("f32", new float[] {0.5f, -0.0f, Float.NaN})
                .put("f64", Value.array(GgufValueType.FLOAT64, Value.f64(1e-300), Value.f64(Double.NEGATIVE_INFINITY)))
                .put("bool", Value.array(GgufValueType.BOOL, Value.bool(true), Value.bool(false)))
                .putArray("str", "x", "", "ü")
                .put("none", Value.array(GgufValueType.INT32))
                .put("nested", Value.array(GgufValueType.ARRAY,
                        Value.numbers(GgufValueType.INT32, 1, 2),
                        Value.strings("p", "q"),
                        Value.array(GgufValueType.ARRAY, Value.floats(9f)),
                        Value.array(GgufValueType.UINT8)))
                .toBytes());

        assertThat(f.array("u8").orElseThrow().values()).isEqualTo(new int[] {0, 255});
        assertThat(f.array("i8").orElseThrow().values()).isEqualTo(new int[] {-1, 127});
        assertThat(f.array("u16").orElseThrow().values()).isEqualTo(new int[] {65535});
        assertThat(f.array("i16").orElseThrow().values()).isEqualTo(new int[] {-2});
        // UINT32 elements share int[]: values above 2^31 - 1 appear negative
        assertThat(f.intArray("u32")).hasValueSatisfying(a -> assertThat(a).containsExactly(7, -1));
        assertThat(f.intArray("i32")).hasValueSatisfying(a -> assertThat(a).containsExactly(-3, Integer.MAX_VALUE));
        assertThat(f.array("u64").orElseThrow().values()).isEqualTo(new long[] {-1L, 1L << 40});
        assertThat(f.array("i64").orElseThrow().values()).isEqualTo(new long[] {Long.MIN_VALUE});
        assertThat(f.floatArray("f32")).hasValueSatisfying(a -> assertThat(a).containsExactly(0.5f, -0.0f, Float.NaN));
        assertThat(f.array("f64").orElseThrow().values()).isEqualTo(new double[] {1e-300, Double.NEGATIVE_INFINITY});
        assertThat(f.array("bool").orElseThrow().values()).isEqualTo(new boolean[] {true, false});
        assertThat(f.stringArray("str")).hasValueSatisfying(a -> assertThat(a).containsExactly("x", "", "ü"));
        assertThat(f.array("none").orElseThrow().length()).isZero();
        assertThat(f.array("none").orElseThrow().elementType()).isEqualTo(GgufValueType.INT32);

        GgufArray nested = f.array("nested").orElseThrow();
        assertThat(nested.elementType()).isEqualTo(GgufValueType.ARRAY);
        GgufArray[] inner = (GgufArray[]) nested.values();
        assertThat(inner).hasSize(4);
        assertThat(inner[0].values()).isEqualTo(new int[] {1, 2});
        assertThat(inner[1].values()).isEqualTo(new String[] {"p", "q"});
        assertThat(inner[2].elementType()).isEqualTo(GgufValueType.ARRAY);
        assertThat(((GgufArray[]) inner[2].values())[0].values()).isEqualTo(new float[] {9f});
        assertThat(inner[3].elementType()).isEqualTo(GgufValueType.UINT8);
        assertThat(inner[3].length()).isZero();
    }

    @Test
    void typedGettersReturnValuesAndEmptyForMissingKeys() {
        GgufFile f = parse(new GgufWriter()
                .put("s", "text")
                .putI32("i", -7)
                .putU16("small", 300)
                .put("f", 0.25f)
                .put("d", 0.125)
                .put("b", true)
                .putArray("a", "x")
                .toBytes());

        assertThat(f.has("s")).isTrue();
        assertThat(f.has("missing")).isFalse();
        assertThat(f.string("s")).hasValue("text");
        assertThat(f.integer("i")).hasValue(-7L);
        assertThat(f.intValue("small", 1)).hasValue(300);
        assertThat(f.number("f")).hasValue(0.25);
        assertThat(f.number("d")).hasValue(0.125);
        assertThat(f.number("i")).hasValue(-7.0);
        assertThat(f.bool("b")).hasValue(true);
        assertThat(f.array("a").orElseThrow().length()).isEqualTo(1);

        assertThat(f.string("missing")).isEmpty();
        assertThat(f.integer("missing")).isEmpty();
        assertThat(f.intValue("missing", 0)).isEmpty();
        assertThat(f.number("missing")).isEmpty();
        assertThat(f.bool("missing")).isEmpty();
        assertThat(f.array("missing")).isEmpty();
        assertThat(f.stringArray("missing")).isEmpty();
        assertThat(f.floatArray("missing")).isEmpty();
        assertThat(f.intArray("missing")).isEmpty();
    }

    @Test
    void typedGettersNameTheKeyItsOffsetAndBothTypesWhenTheTypeIsWrong() {
        GgufWriter.Encoded enc = new GgufWriter()
                .put("s", "text")
                .putI32("i", 5)
                .putI64("big", 1L << 40)
                .put("b", true)
                .putArray("a", "x")
                .putArray("ints", GgufValueType.INT32, 1)
                .encode();
        GgufFile f = parse(enc.bytes());

        record Case(String key, Runnable get, String message) {}
        List<Case> cases = List.of(
                new Case("i", () -> f.string("i"), "expected a string, found Long 5"),
                new Case("s", () -> f.integer("s"), "expected an integer, found the string \"text\""),
                new Case("s", () -> f.intValue("s", 0), "expected an integer, found the string \"text\""),
                new Case("big", () -> f.intValue("big", 0), "must be between 0 and 2147483647, found 1099511627776"),
                new Case("i", () -> f.intValue("i", 6), "must be between 6 and 2147483647, found 5"),
                new Case("b", () -> f.number("b"), "expected a number, found Boolean true"),
                new Case("s", () -> f.bool("s"), "expected a boolean, found the string \"text\""),
                new Case("i", () -> f.array("i"), "expected an array, found Long 5"),
                new Case("ints", () -> f.stringArray("ints"), "expected an array of strings, found an array of 1 INT32"),
                new Case("a", () -> f.floatArray("a"), "expected an array of FLOAT32, found an array of 1 STRING"),
                new Case("a", () -> f.intArray("a"), "expected an array of 32-bit integers, found an array of 1 STRING"),
                new Case("b", () -> f.stringArray("b"), "expected an array, found Boolean true"));
        for (Case c : cases) {
            long at = enc.offset("kv." + c.key + ".type");
            var e = catchThrowableOfType(GgufFormatException.class, c.get::run);
            assertThat(e).as(c.message).isNotNull();
            assertThat(e.offset()).isEqualTo(at);
            assertThat(e.field()).isEqualTo("metadata '" + c.key + "'");
            assertThat(e).hasMessage("test.gguf: at byte %d, metadata '%s': %s", at, c.key, c.message);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 8, 64, 4096})
    void customAlignmentPlacesTheDataSectionAndEveryTensorOnItsBoundary(int alignment) {
        // a: F32 [3] = 12 bytes, b: F16 [5] = 10 bytes; odd sizes so that each needs padding
        byte[] a = GgufWriter.pattern("a", 12);
        byte[] b = GgufWriter.pattern("b", 10);
        GgufWriter w = new GgufWriter()
                .put("general.name", "x")
                .alignment(alignment)
                .tensor("a", GgmlType.F32, new long[] {3}, a)
                .tensor("b", GgmlType.F16, new long[] {5}, b);
        GgufWriter.Encoded enc = w.encode();
        GgufFile f = parse(enc.bytes());

        assertThat(f.alignment()).isEqualTo(alignment);
        assertThat(f.dataOffset() % alignment).isZero();
        assertThat(f.dataOffset()).isEqualTo(enc.offset("data"));
        assertThat(f.dataOffset() - enc.offset("header_end")).isBetween(0L, alignment - 1L);
        for (GgufTensorInfo t : f.tensorInfos().values()) {
            assertThat((t.offset() - f.dataOffset()) % alignment).isZero();
        }
        assertThat(bytesOf(f.requireTensor("a"))).isEqualTo(a);
        assertThat(bytesOf(f.requireTensor("b"))).isEqualTo(b);
    }

    @Test
    void alignmentMayBeAnyIntegerType() {
        GgufFile f = parse(new GgufWriter().putU8("general.alignment", 16)
                .tensor("t", GgmlType.F32, new long[] {5}, GgufWriter.pattern("t", 20))
                .tensor("u", GgmlType.F32, new long[] {1}, GgufWriter.pattern("u", 4))
                .toBytes());
        assertThat(f.alignment()).isEqualTo(16);
        assertThat(f.tensorInfos().get("u").offset() - f.dataOffset()).isEqualTo(32);
    }

    @Test
    void everySupportedTypeSlicesExactlyItsBytes() {
        // [cols, rows] with the bytes each needs: cols / blockSize * blockBytes * rows
        GgufWriter w = new GgufWriter()
                .tensor("f32", GgmlType.F32, 3, 2)       // 24
                .tensor("f16", GgmlType.F16, 7)          // 14
                .tensor("bf16", GgmlType.BF16, 1, 1, 1, 3) // 6
                .tensor("q8_0", GgmlType.Q8_0, 32, 2)    // 68
                .tensor("q4_0", GgmlType.Q4_0, 64)       // 36
                .tensor("q4_k", GgmlType.Q4_K, 256, 2)   // 288
                .tensor("q6_k", GgmlType.Q6_K, 512);     // 420
        GgufWriter.Encoded enc = w.encode();
        GgufFile f = parse(enc.bytes());

        long[] sizes = {24, 14, 6, 68, 36, 288, 420};
        String[] names = {"f32", "f16", "bf16", "q8_0", "q4_0", "q4_k", "q6_k"};
        for (int i = 0; i < names.length; i++) {
            Tensor t = f.tensor(names[i]).orElseThrow();
            assertThat(t.name()).isEqualTo(names[i]);
            assertThat(t.type().name().toLowerCase()).isEqualTo(names[i]);
            assertThat(t.data().byteSize()).isEqualTo(sizes[i]);
            assertThat(bytesOf(t)).as(names[i]).isEqualTo(GgufWriter.pattern(names[i], (int) sizes[i]));
            assertThat(f.tensorInfos().get(names[i]).offset()).isEqualTo(enc.offset("tensor." + names[i] + ".data"));
        }
        assertThat(f.tensor("nope")).isEmpty();
    }

    @Test
    void aMissingRequiredTensorIsNamed() {
        GgufFile f = parse(small().toBytes());
        assertThatThrownBy(() -> f.requireTensor("output.weight"))
                .isInstanceOf(GgufFormatException.class)
                .hasMessageContaining("tensor 'output.weight'")
                .hasMessageContaining("missing from the file");
    }

    @Test
    void anUnsupportedTensorTypeFailsOnlyWhenThatTensorIsRequested() {
        GgufWriter.Encoded enc = new GgufWriter()
                .tensor("q4_1", 3, new long[] {32, 2}, new byte[40])  // Q4_1: 20 bytes per 32
                .tensor("odd", 99, new long[] {7}, new byte[7])
                .tensor("ok", GgmlType.F32, 2)
                .encode();
        GgufFile f = parse(enc.bytes());

        assertThat(f.tensorNames()).containsExactly("q4_1", "odd", "ok");
        GgufTensorInfo info = f.tensorInfos().get("q4_1");
        assertThat(info.type()).isNull();
        assertThat(info.typeId()).isEqualTo(3);
        assertThat(info.typeName()).isEqualTo("Q4_1");
        assertThat(info.shape()).containsExactly(32, 2);
        assertThat(f.requireTensor("ok").data().byteSize()).isEqualTo(8);

        long at = enc.offset("tensor.q4_1.type");
        assertThatThrownBy(() -> f.tensor("q4_1"))
                .isInstanceOf(GgufFormatException.class)
                .hasMessageStartingWith("test.gguf: at byte " + at + ", tensor 'q4_1' type: Q4_1 is not supported")
                .hasMessageContaining("F32, F16, BF16, Q8_0, Q4_0, Q4_K and Q6_K");
        assertThatThrownBy(() -> f.requireTensor("odd"))
                .isInstanceOf(GgufFormatException.class)
                .hasMessageContaining("at byte " + enc.offset("tensor.odd.type") + ", tensor 'odd' type: unknown type 99");
    }
}
