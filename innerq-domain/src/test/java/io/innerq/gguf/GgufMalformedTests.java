package io.innerq.gguf;

import io.innerq.gguf.GgufWriter.Value;
import io.innerq.tensor.GgmlType;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Every malformed file fails with a {@link GgufFormatException} that names the field and its byte offset, and never
 * with anything else (an index out of bounds, a negative array size, an out-of-memory error).
 */
class GgufMalformedTests {

    private static final String SOURCE = "bad.gguf";

    /** A small valid file; the cases below break one thing in it. t: F32 [4 cols, 2 rows] = 32 bytes. */
    private static GgufWriter base() {
        return new GgufWriter()
                .put("general.architecture", "llama")
                .put("s", "text")
                .putArray("a", "x", "yz")
                .tensor("t", GgmlType.F32, 4, 2);
    }

    /** Parses {@code bytes}, expecting a GgufFormatException and nothing else. */
    private static GgufFormatException failure(byte[] bytes) {
        try {
            GgufFile.parse(MemorySegment.ofArray(bytes), SOURCE);
        } catch (GgufFormatException e) {
            return e;
        } catch (Throwable t) {
            throw new AssertionError("expected a GgufFormatException, got " + t, t);
        }
        throw new AssertionError("a malformed file was parsed without error");
    }

    /**
     * One malformed file and the error it must give: the field, the byte offset (the offset of a writer field label),
     * and a fragment of the explanation.
     */
    record Case(GgufWriter writer, String offsetLabel, String field, String problem) {}

    private static Arguments named(String name, GgufWriter writer, String offsetLabel, String field, String problem) {
        return Arguments.of(Named.of(name, new Case(writer, offsetLabel, field, problem)));
    }

    private static GgufWriter nested(int levels) {
        Value v = Value.array(GgufValueType.INT32, Value.i32(1));
        for (int i = 1; i < levels; i++) {
            v = Value.array(GgufValueType.ARRAY, v);
        }
        return base().put("deep", v);
    }

    private static GgufWriter cutAtHeaderEnd(GgufWriter w) {
        return w.truncate(w.encode().offset("header_end"));
    }

    static Stream<Arguments> cases() {
        long max = Long.MAX_VALUE;
        String deep8 = "kv.deep.value" + "[0]".repeat(8);
        return Stream.of(
                named("bad magic", base().magic(0x4c4d4747), "magic", "magic",
                        "expected 'GGUF' (0x46554747), found 0x4c4d4747: this is not a GGUF file"),
                named("version 1", base().version(1), "version", "version", "version 1 is not supported"),
                named("version 4", base().version(4), "version", "version", "version 4 is not supported"),
                named("version 2^32-1", base().version(-1), "version", "version", "version 4294967295 is not supported"),
                named("big-endian version 3", base().version(0x0300_0000), "version", "version",
                        "this is a big-endian GGUF file"),

                named("tensor count 2^63-1", base().tensorCount(max), "tensor_count", "tensor count",
                        "9223372036854775807 entries cannot fit"),
                named("tensor count 2^64-1", base().tensorCount(-1), "tensor_count", "tensor count",
                        "18446744073709551615 entries cannot fit"),
                named("tensor count 2^31", base().tensorCount(1L << 31), "tensor_count", "tensor count", "cannot fit"),
                named("kv count 2^63-1", base().kvCount(max), "kv_count", "metadata count", "cannot fit"),
                named("kv count 2^40", base().kvCount(1L << 40), "kv_count", "metadata count", "cannot fit"),
                named("kv count 2^64-1", base().kvCount(-1), "kv_count", "metadata count", "cannot fit"),

                named("key length 2^63-1", base().overrideU64("kv.s.key_length", max), "kv.s.key_length",
                        "metadata key 1 length", "a string of 9223372036854775807 bytes does not fit"),
                named("key length 2^40", base().overrideU64("kv.s.key_length", 1L << 40), "kv.s.key_length",
                        "metadata key 1 length", "a string of 1099511627776 bytes does not fit"),
                named("key length 2^64-1", base().overrideU64("kv.s.key_length", -1), "kv.s.key_length",
                        "metadata key 1 length", "a string of 18446744073709551615 bytes"),
                named("string value length 2^63-1", base().overrideU64("kv.s.value.length", max),
                        "kv.s.value.length", "metadata 's' length", "does not fit"),
                named("string value length 2^40", base().overrideU64("kv.s.value.length", 1L << 40),
                        "kv.s.value.length", "metadata 's' length", "does not fit"),
                named("string element length 2^40", base().overrideU64("kv.a.value[1].length", 1L << 40),
                        "kv.a.value[1].length", "metadata 'a'[1] length", "does not fit"),
                named("string longer than the 16 MiB limit", base().put("big", Value.string("x")
                                .declaredLength((1L << 24) + 1)), "kv.big.value.length", "metadata 'big' length",
                        "(limit 16777216)"),
                named("tensor name length 2^63-1", base().overrideU64("tensor.t.name_length", max),
                        "tensor.t.name_length", "tensor 0 name length", "does not fit"),

                named("array length 2^63-1", base().overrideU64("kv.a.value.count", max), "kv.a.value.count",
                        "metadata 'a' length", "9223372036854775807 entries cannot fit"),
                named("array length 2^40", base().overrideU64("kv.a.value.count", 1L << 40), "kv.a.value.count",
                        "metadata 'a' length", "cannot fit"),
                named("array length 2^31-9", base().putArray("bytes", GgufValueType.UINT8, 1, 2, 3)
                                .overrideU64("kv.bytes.value.count", Integer.MAX_VALUE - 8),
                        "kv.bytes.value.count", "metadata 'bytes' length", "cannot fit"),
                named("array length 2^64-1", base().overrideU64("kv.a.value.count", -1), "kv.a.value.count",
                        "metadata 'a' length", "cannot fit"),
                named("array length 3 with 2 strings", cutAtHeaderEnd(new GgufWriter()
                                .put("t3", Value.strings("pppppppppppp", "q").declaredCount(3))),
                        "header_end", "metadata 't3'[2] length", "needs 8 bytes but the file ends after 0"),

                named("unknown value type 13", base().overrideU32("kv.s.type", 13), "kv.s.type",
                        "type of metadata 's'", "unknown value type 13 (valid: 0 to 12)"),
                named("unknown value type 2^32-1", base().put("u", Value.raw(-1, new byte[8])), "kv.u.type",
                        "type of metadata 'u'", "unknown value type 4294967295"),
                named("unknown array element type", base().put("u", Value.arrayOfTypeId(13)),
                        "kv.u.value.element_type", "metadata 'u' element type", "unknown value type 13"),
                named("unknown nested element type", base().put("u",
                                Value.array(GgufValueType.ARRAY, Value.arrayOfTypeId(77))),
                        "kv.u.value[0].element_type", "metadata 'u'[0] element type", "unknown value type 77"),
                named("arrays nested 9 deep", nested(9), deep8, "metadata 'deep'" + "[0]".repeat(8),
                        "arrays nested deeper than 8"),
                named("arrays nested 1000 deep", nested(1000), deep8, "metadata 'deep'" + "[0]".repeat(8),
                        "arrays nested deeper than 8"),

                named("bool 2", base().put("b", Value.boolByte(2)), "kv.b.value", "metadata 'b'",
                        "a boolean must be 0 or 1, found 2"),
                named("bool 255 in an array", base().put("b", Value.array(GgufValueType.BOOL,
                                Value.bool(true), Value.boolByte(255))), "kv.b.value[1]", "metadata 'b'",
                        "a boolean must be 0 or 1, found 255"),

                named("duplicate key", base().put("s", "again"), "kv.s#2.key_length", "metadata key 3",
                        "duplicate key 's' (first at byte " + base().encode().offset("kv.s.key_length") + ")"),
                named("alignment 0", base().alignment(0), "kv.general.alignment.type",
                        "metadata 'general.alignment'", "must be an integer power of two between 1 and 2^20, found Long 0"),
                named("alignment 3", base().alignment(3), "kv.general.alignment.type",
                        "metadata 'general.alignment'", "found Long 3"),
                named("alignment 2^21", base().alignment(1 << 21), "kv.general.alignment.type",
                        "metadata 'general.alignment'", "found Long 2097152"),
                named("alignment 2^64-1", base().putU64("general.alignment", -1), "kv.general.alignment.type",
                        "metadata 'general.alignment'", "found Long -1"),
                named("alignment a string", base().put("general.alignment", "32"), "kv.general.alignment.type",
                        "metadata 'general.alignment'", "found the string \"32\""),
                named("alignment a float", base().put("general.alignment", 32f), "kv.general.alignment.type",
                        "metadata 'general.alignment'", "found Float 32.0"),

                named("n_dims 0", base().tensor("z", GgmlType.F32, new long[0], new byte[4]), "tensor.z.n_dims",
                        "tensor 'z' dimension count", "must be between 1 and 4, found 0"),
                named("n_dims 5", base().tensor("z", GgmlType.F32, new long[] {1, 1, 1, 1, 1}, new byte[4]),
                        "tensor.z.n_dims", "tensor 'z' dimension count", "must be between 1 and 4, found 5"),
                named("n_dims 2^32-1", base().overrideU32("tensor.t.n_dims", -1), "tensor.t.n_dims",
                        "tensor 't' dimension count", "found 4294967295"),
                named("dimension 0", base().tensor("z", GgmlType.F32, new long[] {4, 0}, new byte[0]),
                        "tensor.z.dim1", "tensor 'z' dimension 1", "must be between 1 and 2^40, found 0"),
                named("dimension 2^41", base().overrideU64("tensor.t.dim0", 1L << 41), "tensor.t.dim0",
                        "tensor 't' dimension 0", "must be between 1 and 2^40, found 2199023255552"),
                named("dimension 2^64-1", base().overrideU64("tensor.t.dim1", -1), "tensor.t.dim1",
                        "tensor 't' dimension 1", "found 18446744073709551615"),
                named("element count overflow", base().tensor("z", GgmlType.F32,
                                new long[] {1L << 40, 1L << 20, 1L << 4}, new byte[4]), "tensor.z.dim2",
                        "tensor 'z' dimension 2", "the element count overflows 64 bits"),
                named("byte size overflow", base().tensor("z", GgmlType.F32,
                                new long[] {1L << 40, 1L << 22}, new byte[4]), "tensor.z.name_length",
                        "tensor 'z' shape", "its byte size overflows 64 bits"),
                named("Q8_0 rows of 33", base().tensor("q", GgmlType.Q8_0, new long[] {33, 1}, new byte[34]),
                        "tensor.q.name_length", "tensor 'q' shape",
                        "rows of 33 elements are not a whole number of Q8_0 blocks of 32"),
                named("Q4_K rows of 32", base().tensor("q", GgmlType.Q4_K, new long[] {32, 8}, new byte[144]),
                        "tensor.q.name_length", "tensor 'q' shape", "not a whole number of Q4_K blocks of 256"),

                named("offset 16 with alignment 32", base().overrideU64("tensor.t.offset", 16), "tensor.t.offset",
                        "tensor 't' offset", "must be a non-negative multiple of the alignment 32, found 16"),
                named("offset 32 with alignment 64", base().alignment(64).overrideU64("tensor.t.offset", 32),
                        "tensor.t.offset", "tensor 't' offset", "multiple of the alignment 64, found 32"),
                named("offset 2^64-32", base().overrideU64("tensor.t.offset", -32), "tensor.t.offset",
                        "tensor 't' offset", "found 18446744073709551584"),
                named("offset 2^40", base().overrideU64("tensor.t.offset", 1L << 40), "tensor.t.name_length",
                        "tensor 't' data", "extends past the end of the file (data at offset 1099511627776"),
                named("offset 2^63-32", base().overrideU64("tensor.t.offset", max - 31), "tensor.t.name_length",
                        "tensor 't' data", "(data at offset 9223372036854775776 of the data section"),
                named("offset just past the data", base().overrideU64("tensor.t.offset", 64), "tensor.t.name_length",
                        "tensor 't' data", "extends past the end of the file"),
                named("data shorter than the shape", base().tensor("z", GgmlType.F32, new long[] {16, 2}, new byte[8]),
                        "tensor.z.name_length", "tensor 'z' data", "128 bytes; the file has"),
                named("file cut inside the data", base().tensor("z", GgmlType.F32, 64).truncate(
                        base().tensor("z", GgmlType.F32, 64).encode().offset("tensor.z.data") + 100),
                        "tensor.z.name_length", "tensor 'z' data", "256 bytes"),
                named("duplicate tensor name", base().tensor("t", GgmlType.F32, 8), "tensor.t#2.name_length",
                        "tensor 't'", "duplicate tensor name (first at byte " + base().encode().offset("tensor.t.name_length") + ")"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void malformedFilesFailWithTheFieldAndItsOffset(Case c) {
        GgufWriter.Encoded enc = c.writer.encode();
        long at = enc.offset(c.offsetLabel);

        GgufFormatException e = failure(enc.bytes());

        assertThat(e.field()).isEqualTo(c.field);
        assertThat(e.offset()).isEqualTo(at);
        assertThat(e.getMessage())
                .startsWith(SOURCE + ": at byte " + at + ", " + c.field + ": ")
                .contains(c.problem);
    }

    @Test
    void arraysNestedEightDeepAreAccepted() {
        GgufFile f = GgufFile.parse(MemorySegment.ofArray(nested(8).toBytes()), SOURCE);
        GgufArray a = f.array("deep").orElseThrow();
        for (int i = 1; i < 8; i++) {
            a = ((GgufArray[]) a.values())[0];
        }
        assertThat(a.values()).isEqualTo(new int[] {1});
    }

    @Test
    void everyTruncationFailsWithTheFieldItCut() {
        GgufWriter.Encoded enc = new GgufWriter()
                .put("general.architecture", "llama")
                .putU32("n", 7)
                .put("f", 0.5f)
                .put("b", true)
                .putArray("tokens", "<s>", "ab")
                .put("nested", Value.array(GgufValueType.ARRAY, Value.numbers(GgufValueType.INT16, 1, 2)))
                .tensor("w", GgmlType.F32, 4, 2)
                .tensor("q", GgmlType.Q8_0, 32)
                .encode();
        byte[] full = enc.bytes();
        long headerEnd = enc.offset("header_end");
        GgufWriter.Field last = enc.field("tensor.q.data");
        long dataEnd = last.offset() + last.size();
        assertThat(dataEnd).isLessThan(full.length); // the last tensor is padded too

        for (int n = 0; n < full.length; n++) {
            byte[] prefix = enc.prefix(n);
            if (n >= dataEnd) {
                // only padding after the last tensor is missing: nothing is lost
                GgufFile f = GgufFile.parse(MemorySegment.ofArray(prefix), SOURCE);
                assertThat(f.tensorNames()).containsExactly("w", "q");
                continue;
            }
            GgufFormatException e = failure(prefix);
            assertThat(e.offset()).as("prefix of %d bytes: %s", n, e.getMessage()).isBetween(0L, (long) n);
            assertThat(e.getMessage()).startsWith(SOURCE + ": at byte " + e.offset() + ", " + e.field() + ": ");
            if (n >= headerEnd) {
                assertThat(e.field()).as("prefix of %d bytes", n).endsWith(" data");
                assertThat(e.getMessage()).contains("extends past the end of the file");
            } else {
                assertThat(e.getMessage()).as("prefix of %d bytes", n)
                        .containsAnyOf("the file is truncated", "does not fit", "cannot fit");
            }
        }
    }

    @Test
    void randomMutationsGiveAGgufFormatExceptionOrAValidFile() {
        GgufWriter.Encoded enc = base()
                .putU8("u8", 200)
                .putI64("i64", -5)
                .put("f64", 2.5)
                .put("b", false)
                .putArray("ints", GgufValueType.INT32, 1, -2, 3)
                .put("nested", Value.array(GgufValueType.ARRAY, Value.floats(1f, 2f), Value.strings("k")))
                .alignment(16)
                .tensor("q", GgmlType.Q8_0, 32, 2)
                .tensor("h", GgmlType.F16, 6)
                .encode();
        byte[] original = enc.bytes();
        List<Long> u64Fields = new ArrayList<>();
        List<Long> u32Fields = new ArrayList<>();
        enc.fields().values().forEach(f -> {
            if (f.size() == 8) {
                u64Fields.add(f.offset());
            } else if (f.size() == 4) {
                u32Fields.add(f.offset());
            }
        });
        long[] interesting = {0, 1, 2, 3, 4, 5, 8, 12, 13, 16, 31, 32, 33, 64, 255, 256, 1L << 16, 1L << 24,
                (1L << 24) + 1, Integer.MAX_VALUE - 8, Integer.MAX_VALUE, 1L << 31, 0xffff_ffffL, 1L << 32, 1L << 40,
                1L << 41, 1L << 62, Long.MAX_VALUE - 31, Long.MAX_VALUE, Long.MIN_VALUE, -32, -1, original.length,
                original.length - 1};

        long seed = 0x6775_6666L;
        Random rnd = new Random(seed);
        int parsed = 0;
        int rejected = 0;
        for (int i = 0; i < 2_000; i++) {
            byte[] b = original.clone();
            String what;
            switch (rnd.nextInt(4)) {
                case 0 -> {
                    int flips = 1 + rnd.nextInt(4);
                    StringBuilder s = new StringBuilder("flipped bytes");
                    for (int k = 0; k < flips; k++) {
                        int at = rnd.nextInt(b.length);
                        b[at] ^= (byte) (1 + rnd.nextInt(255));
                        s.append(' ').append(at);
                    }
                    what = s.toString();
                }
                case 1 -> {
                    long at = u64Fields.get(rnd.nextInt(u64Fields.size()));
                    long v = rnd.nextBoolean() ? interesting[rnd.nextInt(interesting.length)] : rnd.nextLong();
                    GgufWriter.patchU64(b, at, v);
                    what = "u64 field at " + at + " = " + Long.toUnsignedString(v);
                }
                case 2 -> {
                    long at = u32Fields.get(rnd.nextInt(u32Fields.size()));
                    int v = rnd.nextBoolean() ? (int) interesting[rnd.nextInt(interesting.length)] : rnd.nextInt();
                    GgufWriter.patchU32(b, at, v);
                    what = "u32 field at " + at + " = " + Integer.toUnsignedString(v);
                }
                default -> {
                    int at = rnd.nextInt(b.length - 7);
                    long v = interesting[rnd.nextInt(interesting.length)];
                    GgufWriter.patchU64(b, at, v);
                    what = "u64 at unaligned byte " + at + " = " + Long.toUnsignedString(v);
                }
            }
            if (rnd.nextInt(8) == 0) {
                int n = rnd.nextInt(b.length);
                b = java.util.Arrays.copyOf(b, n);
                what += ", truncated to " + n;
            }
            try {
                GgufFile f = GgufFile.parse(MemorySegment.ofArray(b), SOURCE);
                useEverything(f);
                parsed++;
            } catch (GgufFormatException e) {
                assertThat(e.getMessage()).as("seed %d, mutation %d (%s)", seed, i, what)
                        .startsWith(SOURCE + ": at byte " + e.offset() + ", " + e.field() + ": ");
                assertThat(e.offset()).as("seed %d, mutation %d (%s)", seed, i, what).isBetween(0L, (long) b.length);
                rejected++;
            } catch (Throwable t) {
                fail("seed %d, mutation %d (%s): expected a GgufFormatException or success, got %s"
                        .formatted(seed, i, what, t), t);
            }
        }
        // both outcomes must be exercised for the test to mean anything
        assertThat(parsed).isGreaterThan(50);
        assertThat(rejected).isGreaterThan(500);
    }

    /** Reads every value and tensor of a parsed file; only GgufFormatException may escape. */
    private static void useEverything(GgufFile f) {
        List<Function<String, Object>> getters = List.of(f::string, f::integer, k -> f.intValue(k, 0), f::number,
                f::bool, f::array, f::stringArray, f::floatArray, f::intArray);
        for (String key : f.metadata().keySet()) {
            for (var get : getters) {
                try {
                    get.apply(key);
                } catch (GgufFormatException expected) {
                    // a wrong type: fine
                }
            }
        }
        for (String name : f.tensorNames()) {
            try {
                f.requireTensor(name).data().byteSize();
            } catch (GgufFormatException expected) {
                // an unsupported type: fine
            }
        }
    }

    @Test
    void stories260KHasTheFactsItsReadmeStates() throws IOException {
        Path model = findSharedModel("stories260K.gguf");
        assumeThat(model).as("stories260K.gguf not found in a shared/models folder above %s; skipping",
                Path.of("").toAbsolutePath()).isNotNull();

        try (GgufFile f = GgufFile.open(model)) {
            assertThat(f.version()).isEqualTo(3);
            assertThat(f.fileSize()).isEqualTo(Files.size(model));
            assertThat(f.string("general.architecture")).hasValue("llama");
            assertThat(f.integer("llama.embedding_length")).hasValue(64L);
            assertThat(f.integer("llama.block_count")).hasValue(5L);
            assertThat(f.stringArray("tokenizer.ggml.tokens").orElseThrow()).hasSize(512);
            GgufTensorInfo embd = f.tensorInfos().get("token_embd.weight");
            assertThat(embd.shape()).containsExactly(64, 512);
            assertThat(embd.type()).isEqualTo(GgmlType.F32);
            assertThat(f.requireTensor("token_embd.weight").data().byteSize()).isEqualTo(64 * 512 * 4);
        }
    }

    /** {@code shared/models/NAME} in the working directory or the nearest folder above it that has one, or null. */
    static Path findSharedModel(String name) {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("shared").resolve("models").resolve(name);
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        return null;
    }
}
