package io.innerq.model;

import io.innerq.cache.ReferenceKvCaches;
import io.innerq.engine.ContextLengthExceededException;
import io.innerq.engine.GenerationRequest;
import io.innerq.engine.Generator;
import io.innerq.engine.NonFiniteLogitsException;
import io.innerq.engine.TokenSink;
import io.innerq.gguf.GgufFile;
import io.innerq.gguf.GgufFormatException;
import io.innerq.gguf.GgufTensorInfo;
import io.innerq.gguf.GgufValueType;
import io.innerq.model.synthetic.SyntheticModel;
import io.innerq.model.synthetic.SyntheticShape;
import io.innerq.sampling.SamplingParams;
import io.innerq.tensor.GgmlType;
import io.innerq.tensor.ScalarMatVec;
import io.innerq.testing.TestModels;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Seeded mutation fuzzing of model loading: the header, metadata and tensor table of stories260K and of small
 * synthetic models (every tensor type the synthetic writer has, SentencePiece and byte-level BPE tokenizers, tied and
 * separate output heads, Llama 3 RoPE scaling with its frequency tensor) are mutated, and each mutated file is loaded
 * with the full weight check and, when it loads, run for a prompt and two greedy tokens on the scalar ports.
 *
 * <p>Every outcome must be a model that loads and runs, or one of the documented refusals with a message: a
 * {@link GgufFormatException} from loading, a {@link NonFiniteLogitsException} or a
 * {@link ContextLengthExceededException} from generating. Any other exception, an error (out of memory, stack
 * overflow), or a mutation that takes over {@value #SLOW_SECONDS} s fails the test with the mutation's number and
 * description; mutation i of a run is drawn from seed {@code SEED + i}, so it replays alone.
 *
 * <p>{@value #MUTATIONS_PROPERTY} sets the number of mutations (default {@value #DEFAULT_MUTATIONS}, about 20 s on a
 * 2-core machine): {@code ./mvnw -B -pl innerq-domain test -Dtest=ModelMutationFuzzTests
 * -Dinnerq.fuzz.mutations=20000}.
 */
class ModelMutationFuzzTests {

    static final String MUTATIONS_PROPERTY = "innerq.fuzz.mutations";
    static final int DEFAULT_MUTATIONS = 20_000;
    static final long SEED = 0x6d6f_6465_6cL;
    static final int SLOW_SECONDS = 10;

    /** A model to mutate: its bytes and where its fields are. */
    record Base(String name, byte[] bytes, List<Field> fields, long headerEnd) {
    }

    /** A field of the header: what it is, where, how wide, and for a metadata value its GGUF type. */
    record Field(String label, Kind kind, int offset, int width) {
    }

    enum Kind { INTEGER, FLOAT, TYPE_ID, ARRAY_COUNT, ARRAY_ELEMENT_TYPE, STRING_LENGTH, TENSOR_DIMS, TENSOR_DIM,
        TENSOR_TYPE, TENSOR_OFFSET }

    private static final List<Base> BASES = new ArrayList<>();

    @TempDir
    static Path dir;

    @BeforeAll
    static void bases() throws IOException {
        BASES.add(base("stories260K", Files.readAllBytes(TestModels.stories260K())));
        String[][] synthetic = {
                {"tiny", "F32"},                                             // byte-level BPE, tied output
                {"tiny:tokenizer=spm,tied=false,layers=1", "Q8_0"},          // SentencePiece, separate output
                {"tiny:layers=1,heads=2,kv-heads=1,head-dim=32", "Q4_0"},
                {"llama3-8b:kv-heads=2,heads=4,dim=64,head-dim=16,ffn=128,vocab=512,layers=1,context=256", "F16"},
                {"tiny:layers=1,context=64", "BF16"}};
        for (String[] s : synthetic) {
            Path file = dir.resolve(s[0].replaceAll("[^a-z0-9]", "_") + ".gguf");
            new SyntheticModel(SyntheticShape.parse(s[0]), GgmlType.valueOf(s[1]), 1).write(file, false, b -> { });
            BASES.add(base(s[0] + " " + s[1], Files.readAllBytes(file)));
        }
    }

    /** The fields of a valid file, found by parsing it. */
    static Base base(String name, byte[] bytes) {
        GgufFile gguf = GgufFile.parse(MemorySegment.ofArray(bytes), name);
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        var fields = new ArrayList<Field>();
        fields.add(new Field("tensor count", Kind.ARRAY_COUNT, 8, 8));
        fields.add(new Field("metadata count", Kind.ARRAY_COUNT, 16, 8));
        for (String key : gguf.metadata().keySet()) {
            int at = (int) gguf.offsetOf(key);
            fields.add(new Field("type of " + key, Kind.TYPE_ID, at, 4));
            fields.add(new Field("length of key " + key, Kind.STRING_LENGTH, at - 8 - key.getBytes(StandardCharsets.UTF_8).length, 8));
            GgufValueType type = GgufValueType.values()[b.getInt(at)];
            int value = at + 4;
            switch (type) {
                case UINT8, INT8, BOOL -> fields.add(new Field(key, Kind.INTEGER, value, 1));
                case UINT16, INT16 -> fields.add(new Field(key, Kind.INTEGER, value, 2));
                case UINT32, INT32 -> fields.add(new Field(key, Kind.INTEGER, value, 4));
                case UINT64, INT64 -> fields.add(new Field(key, Kind.INTEGER, value, 8));
                case FLOAT32 -> fields.add(new Field(key, Kind.FLOAT, value, 4));
                case FLOAT64 -> fields.add(new Field(key, Kind.FLOAT, value, 8));
                case STRING -> fields.add(new Field("length of " + key, Kind.STRING_LENGTH, value, 8));
                case ARRAY -> {
                    fields.add(new Field("element type of " + key, Kind.ARRAY_ELEMENT_TYPE, value, 4));
                    fields.add(new Field("length of " + key, Kind.ARRAY_COUNT, value + 4, 8));
                }
            }
        }
        for (GgufTensorInfo t : gguf.tensorInfos().values()) {
            int at = (int) gguf.tensorEntryOffset(t.name());
            String n = "tensor " + t.name();
            fields.add(new Field("name length of " + n, Kind.STRING_LENGTH, at, 8));
            int dims = at + 8 + t.name().getBytes(StandardCharsets.UTF_8).length;
            fields.add(new Field("dimension count of " + n, Kind.TENSOR_DIMS, dims, 4));
            for (int d = 0; d < t.shape().length; d++) {
                fields.add(new Field("dimension " + d + " of " + n, Kind.TENSOR_DIM, dims + 4 + 8 * d, 8));
            }
            int type = dims + 4 + 8 * t.shape().length;
            fields.add(new Field("type of " + n, Kind.TENSOR_TYPE, type, 4));
            fields.add(new Field("offset of " + n, Kind.TENSOR_OFFSET, type + 4, 8));
        }
        long headerEnd = fields.stream().mapToLong(f -> f.offset() + f.width()).max().orElseThrow();
        return new Base(name, bytes, List.copyOf(fields), headerEnd);
    }

    private static final long[] INTERESTING = {0, 1, 2, 3, 4, 7, 8, 15, 16, 31, 32, 33, 63, 64, 65, 127, 128, 172, 255,
            256, 511, 512, 513, 1000, 1 << 15, 1 << 16, (1 << 16) + 1, 1 << 20, 1 << 24, (1 << 24) + 1, 1L << 30,
            Integer.MAX_VALUE - 1, Integer.MAX_VALUE, 1L << 31, 0xffff_fffeL, 0xffff_ffffL, 1L << 32, 1L << 40,
            (1L << 40) + 1, 1L << 62, Long.MAX_VALUE, Long.MIN_VALUE, -2, -1};

    private static final double[] INTERESTING_FLOATS = {0, -0.0, 1, -1, 0.5, 1e-5, -1e-5, 1e-30, 1e30, 1e38, -1e38,
            Float.MIN_VALUE, Float.MAX_VALUE, Double.MAX_VALUE, Double.MIN_VALUE, Float.NaN, Float.POSITIVE_INFINITY,
            Float.NEGATIVE_INFINITY, 10000, 500000, 65504, 65520};

    /** A value for a field of the given kind: an interesting one, one near the original, or random bits. */
    private static long value(SplittableRandom rnd, long original) {
        return switch (rnd.nextInt(5)) {
            case 0, 1 -> INTERESTING[rnd.nextInt(INTERESTING.length)];
            case 2 -> original + rnd.nextInt(-3, 4);
            case 3 -> rnd.nextBoolean() ? original * 2 : original / 2;
            default -> rnd.nextLong();
        };
    }

    private static long read(byte[] b, int at, int width) {
        long v = 0;
        for (int i = width - 1; i >= 0; i--) {
            v = v << 8 | (b[at + i] & 0xff);
        }
        return v;
    }

    private static void write(byte[] b, int at, int width, long v) {
        for (int i = 0; i < width; i++) {
            b[at + i] = (byte) (v >>> 8 * i);
        }
    }

    /** Mutates {@code b} in place (or returns a truncated copy) and says how. */
    static byte[] mutate(Base base, SplittableRandom rnd, StringBuilder what) {
        byte[] b = base.bytes().clone();
        int changes = rnd.nextInt(8) == 0 ? 2 + rnd.nextInt(3) : 1;
        for (int c = 0; c < changes; c++) {
            if (c > 0) {
                what.append("; ");
            }
            int kind = rnd.nextInt(10);
            if (kind < 7) { // a field of the header
                Field f = base.fields().get(rnd.nextInt(base.fields().size()));
                long original = read(b, f.offset(), f.width());
                long v;
                switch (f.kind()) {
                    case FLOAT -> {
                        double o = f.width() == 4 ? Float.intBitsToFloat((int) original)
                                : Double.longBitsToDouble(original);
                        double x = rnd.nextInt(3) == 0 ? o * (rnd.nextDouble() * 4 - 2)
                                : INTERESTING_FLOATS[rnd.nextInt(INTERESTING_FLOATS.length)];
                        v = f.width() == 4 ? Float.floatToRawIntBits((float) x) & 0xffff_ffffL
                                : Double.doubleToRawLongBits(x);
                    }
                    case TYPE_ID, ARRAY_ELEMENT_TYPE -> v = rnd.nextInt(4) == 0 ? value(rnd, original) : rnd.nextInt(14);
                    case TENSOR_TYPE -> v = rnd.nextInt(4) == 0 ? value(rnd, original)
                            : new int[] {0, 1, 2, 3, 8, 12, 14, 30, 31}[rnd.nextInt(9)];
                    case TENSOR_DIMS -> v = rnd.nextInt(4) == 0 ? value(rnd, original) : rnd.nextInt(6);
                    default -> v = value(rnd, original);
                }
                v = f.width() == 8 ? v : v & ((1L << 8 * f.width()) - 1); // what the field holds
                write(b, f.offset(), f.width(), v);
                what.append(f.label()).append(" = ").append(f.kind() == Kind.FLOAT
                        ? (f.width() == 4 ? Float.toString(Float.intBitsToFloat((int) v)) : Double.toString(Double.longBitsToDouble(v)))
                        : Long.toString(v));
            } else if (kind < 9) { // bytes anywhere in the header
                int n = 1 + rnd.nextInt(4);
                what.append("flipped header bytes");
                for (int i = 0; i < n; i++) {
                    int at = rnd.nextInt((int) base.headerEnd());
                    b[at] ^= (byte) (1 + rnd.nextInt(255));
                    what.append(' ').append(at);
                }
            } else { // cut the file
                int n = rnd.nextInt(b.length);
                what.append("truncated to ").append(n);
                b = Arrays.copyOf(b, n);
                break; // the fields after the cut are gone
            }
        }
        return b;
    }

    /** What happened to one mutated file. */
    enum Outcome { RAN, REFUSED_AT_LOAD, NON_FINITE_LOGITS, CONTEXT_TOO_SHORT }

    static Outcome run(byte[] bytes) throws IOException {
        LlamaModel model;
        try {
            model = LlamaModel.read("mutated.gguf", new ByteArrayInputStream(bytes), bytes.length, WeightCheck.ALL);
        } catch (GgufFormatException e) {
            assertThat(e.getMessage()).startsWith("mutated.gguf: at byte " + e.offset() + ", " + e.field() + ": ");
            assertThat(e.offset()).isBetween(0L, (long) bytes.length);
            return Outcome.REFUSED_AT_LOAD;
        }
        try (model) {
            var generator = new Generator(model, new ScalarMatVec(), new ReferenceKvCaches());
            generator.generate(GenerationRequest.of("Once upon a time", 2, SamplingParams.greedy()), TokenSink.IGNORE);
            return Outcome.RAN;
        } catch (NonFiniteLogitsException e) {
            assertThat(e.getMessage()).contains("mutated.gguf");
            return Outcome.NON_FINITE_LOGITS;
        } catch (ContextLengthExceededException e) {
            assertThat(e.getMessage()).contains("context holds");
            return Outcome.CONTEXT_TOO_SHORT;
        }
    }

    @Test
    void everyMutatedModelLoadsAndRunsOrIsRefusedWithADocumentedException() {
        int mutations = Integer.getInteger(MUTATIONS_PROPERTY, DEFAULT_MUTATIONS);
        var outcomes = new TreeMap<String, Integer>();
        long[] slowest = {0};
        long start = System.nanoTime();
        // a hang fails the run: every mutation together gets 20 ms each plus a minute
        assertTimeoutPreemptively(Duration.ofSeconds(60 + mutations / 50), () -> {
            for (int i = 0; i < mutations; i++) {
                var rnd = new SplittableRandom(SEED + i);
                Base base = BASES.get(rnd.nextInt(BASES.size()));
                var what = new StringBuilder();
                byte[] bytes = mutate(base, rnd, what);
                long t0 = System.nanoTime();
                Outcome outcome;
                try {
                    outcome = run(bytes);
                } catch (Throwable t) {
                    fail("mutation %d of %s (%s): expected a load and a run, or a documented refusal, got %s"
                            .formatted(i, base.name(), what, t), t);
                    return;
                }
                long nanos = System.nanoTime() - t0;
                slowest[0] = Math.max(slowest[0], nanos);
                assertThat(nanos).as("mutation %d of %s (%s) took %d ms", i, base.name(), what, nanos / 1_000_000)
                        .isLessThan(SLOW_SECONDS * 1_000_000_000L);
                outcomes.merge(outcome.name(), 1, Integer::sum);
            }
        });
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf(Locale.ROOT, "ModelMutationFuzzTests: %d mutations of %d models in %.1f s (%.0f/s), slowest "
                        + "%.1f ms; outcomes %s%n", mutations, BASES.size(), seconds, mutations / seconds,
                slowest[0] / 1e6, outcomes);
        // both kinds of outcome must be common for the run to mean anything
        assertThat(outcomes.getOrDefault("RAN", 0)).isGreaterThan(mutations / 20);
        assertThat(outcomes.getOrDefault("REFUSED_AT_LOAD", 0)).isGreaterThan(mutations / 4);
    }
}
