package io.innerq.gguf;

import io.innerq.tensor.GgmlType;
import io.innerq.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.WritableByteChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GgufFileWriterTests {

    // w: F32 [4 cols, 2 rows] = 32 bytes; q: Q8_0 [64 cols, 3 rows] = 6 blocks of 34 bytes; v: F16 [3] = 6 bytes
    private static final byte[] W = GgufWriter.pattern("w", 32);
    private static final byte[] Q = GgufWriter.pattern("q", 204);
    private static final byte[] V = GgufWriter.pattern("v", 6);

    private static GgufFileWriter.Layout small() {
        return GgufFileWriter.layout()
                .alignment(64)
                .put("general.architecture", "llama")
                .put("llama.block_count", GgufValue.u32(5))
                .put("tokenizer.ggml.tokens", GgufValue.strings("<s>", "</s>", "a"))
                .tensor("w", GgmlType.F32, 4, 2)
                .tensor("q", GgmlType.Q8_0, 64, 3)
                .tensor("v", GgmlType.F16, 3);
    }

    /** The file written through a channel in memory, the data handed over in pieces of {@code piece} bytes. */
    private static byte[] write(GgufFileWriter.Layout layout, byte[] data, int piece) throws IOException {
        var bytes = new ByteArrayOutputStream();
        try (GgufFileWriter out = layout.open(Channels.newChannel(bytes), "memory")) {
            for (int at = 0; at < data.length; at += piece) {
                out.write(ByteBuffer.wrap(data, at, Math.min(piece, data.length - at)));
            }
        }
        return bytes.toByteArray();
    }

    private static byte[] concat(byte[]... parts) {
        var out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    private static GgufFile parse(byte[] bytes) {
        return GgufFile.parse(MemorySegment.ofArray(bytes), "test.gguf");
    }

    private static byte[] bytesOf(Tensor t) {
        return t.data().toArray(ValueLayout.JAVA_BYTE);
    }

    @Test
    void writesTheSameBytesAsTheTestWriter() throws IOException {
        byte[] expected = new GgufWriter()
                .alignment(64)
                .put("general.architecture", "llama")
                .putU32("llama.block_count", 5)
                .putArray("tokenizer.ggml.tokens", "<s>", "</s>", "a")
                .tensor("w", GgmlType.F32, new long[] {4, 2}, W)
                .tensor("q", GgmlType.Q8_0, new long[] {64, 3}, Q)
                .tensor("v", GgmlType.F16, new long[] {3}, V)
                .toBytes();
        byte[] data = concat(W, Q, V);
        for (int piece : new int[] {1, 7, 32, 100, data.length}) {
            assertThat(write(small(), data, piece)).as("pieces of %d bytes", piece).isEqualTo(expected);
        }
        assertThat(small().fileSize()).isEqualTo(expected.length);
    }

    @Test
    void tensorsReadBackWithTheirData() throws IOException {
        GgufFile f = parse(write(small(), concat(W, Q, V), 50));
        assertThat(f.alignment()).isEqualTo(64);
        assertThat(f.tensorNames()).containsExactly("w", "q", "v");
        assertThat(bytesOf(f.requireTensor("w"))).isEqualTo(W);
        assertThat(bytesOf(f.requireTensor("q"))).isEqualTo(Q);
        assertThat(bytesOf(f.requireTensor("v"))).isEqualTo(V);
        assertThat(f.requireTensor("q").shape()).containsExactly(64, 3);
        for (GgufTensorInfo t : f.tensorInfos().values()) {
            assertThat(t.offset() % 64).as(t.name()).isZero();
        }
    }

    @Test
    void everyValueTypeReadsBack() throws IOException {
        var nested = new GgufArray(GgufValueType.ARRAY, new GgufArray[] {
                new GgufArray(GgufValueType.INT16, new int[] {-2, 3}),
                new GgufArray(GgufValueType.STRING, new String[] {"x"})});
        var layout = GgufFileWriter.layout()
                .put("u8", GgufValue.u8(255))
                .put("i8", GgufValue.i8(-128))
                .put("u16", GgufValue.u16(65535))
                .put("i16", GgufValue.i16(-32768))
                .put("u32", GgufValue.u32(4_000_000_000L))
                .put("i32", GgufValue.i32(-7))
                .put("u64", GgufValue.u64(1L << 40))
                .put("i64", GgufValue.i64(-(1L << 40)))
                .put("f32", GgufValue.f32(1.5f))
                .put("f64", GgufValue.f64(-2.25))
                .put("bool", GgufValue.bool(true))
                .put("string", GgufValue.string("héllo ▁"))
                .put("a.u8", GgufValue.array(new GgufArray(GgufValueType.UINT8, new int[] {0, 255})))
                .put("a.i8", GgufValue.array(new GgufArray(GgufValueType.INT8, new int[] {-128, 127})))
                .put("a.u16", GgufValue.array(new GgufArray(GgufValueType.UINT16, new int[] {65535})))
                .put("a.i16", GgufValue.array(new GgufArray(GgufValueType.INT16, new int[] {-1})))
                .put("a.u32", GgufValue.array(new GgufArray(GgufValueType.UINT32, new int[] {-1})))
                .put("a.i32", GgufValue.ints(1, -2, 3))
                .put("a.u64", GgufValue.array(new GgufArray(GgufValueType.UINT64, new long[] {1L << 50})))
                .put("a.i64", GgufValue.array(new GgufArray(GgufValueType.INT64, new long[] {-3})))
                .put("a.f32", GgufValue.floats(0.5f, -1f))
                .put("a.f64", GgufValue.array(new GgufArray(GgufValueType.FLOAT64, new double[] {1e300})))
                .put("a.bool", GgufValue.array(new GgufArray(GgufValueType.BOOL, new boolean[] {true, false})))
                .put("a.string", GgufValue.strings("a", "", "ü"))
                .put("a.empty", GgufValue.strings())
                .put("a.nested", GgufValue.array(nested));
        GgufFile f = parse(write(layout, new byte[0], 1));
        assertThat(f.integer("u8")).hasValue(255L);
        assertThat(f.integer("i8")).hasValue(-128L);
        assertThat(f.integer("u16")).hasValue(65535L);
        assertThat(f.integer("i16")).hasValue(-32768L);
        assertThat(f.integer("u32")).hasValue(4_000_000_000L);
        assertThat(f.integer("i32")).hasValue(-7L);
        assertThat(f.integer("u64")).hasValue(1L << 40);
        assertThat(f.integer("i64")).hasValue(-(1L << 40));
        assertThat(f.metadata().get("f32")).isEqualTo(1.5f);
        assertThat(f.metadata().get("f64")).isEqualTo(-2.25);
        assertThat(f.bool("bool")).hasValue(true);
        assertThat(f.string("string")).hasValue("héllo ▁");
        assertThat(f.intArray("a.u8").orElseThrow()).containsExactly(0, 255);
        assertThat(f.intArray("a.i8").orElseThrow()).containsExactly(-128, 127);
        assertThat(f.intArray("a.u16").orElseThrow()).containsExactly(65535);
        assertThat(f.intArray("a.i16").orElseThrow()).containsExactly(-1);
        assertThat(f.intArray("a.u32").orElseThrow()).containsExactly(-1);
        assertThat(f.intArray("a.i32").orElseThrow()).containsExactly(1, -2, 3);
        assertThat((long[]) f.array("a.u64").orElseThrow().values()).containsExactly(1L << 50);
        assertThat((long[]) f.array("a.i64").orElseThrow().values()).containsExactly(-3);
        assertThat(f.floatArray("a.f32").orElseThrow()).containsExactly(0.5f, -1f);
        assertThat((double[]) f.array("a.f64").orElseThrow().values()).containsExactly(1e300);
        assertThat((boolean[]) f.array("a.bool").orElseThrow().values()).containsExactly(true, false);
        assertThat(f.stringArray("a.string").orElseThrow()).containsExactly("a", "", "ü");
        assertThat(f.stringArray("a.empty").orElseThrow()).isEmpty();
        GgufArray[] back = (GgufArray[]) f.array("a.nested").orElseThrow().values();
        assertThat((int[]) back[0].values()).containsExactly(-2, 3);
        assertThat(back[0].elementType()).isEqualTo(GgufValueType.INT16);
        assertThat((String[]) back[1].values()).containsExactly("x");
        assertThat(f.metadata()).hasSize(26);
    }

    @Test
    void valuesMustFitTheirType() {
        assertThatThrownBy(() -> GgufValue.u8(256)).hasMessageContaining("256 does not fit UINT8");
        assertThatThrownBy(() -> GgufValue.u32(-1)).hasMessageContaining("does not fit UINT32");
        assertThatThrownBy(() -> new GgufValue.Int(GgufValueType.FLOAT32, 1)).hasMessageContaining("not an integer");
        assertThatThrownBy(() -> GgufValue.array(new GgufArray(GgufValueType.INT8, new int[] {200})))
                .hasMessageContaining("200 does not fit INT8");
        assertThatThrownBy(() -> GgufValue.array(new GgufArray(GgufValueType.FLOAT32, new int[] {1})))
                .hasMessageContaining("an array of FLOAT32 cannot hold a int[]");
    }

    @Test
    void theLayoutRefusesWhatAReaderWouldReject() {
        assertThatThrownBy(() -> small().put("general.architecture", "mistral"))
                .hasMessageContaining("'general.architecture' is already set");
        assertThatThrownBy(() -> small().tensor("w", GgmlType.F32, 4))
                .hasMessageContaining("tensor 'w' is already in the table");
        assertThatThrownBy(() -> GgufFileWriter.layout().tensor("q", GgmlType.Q4_0, 48, 2))
                .hasMessageContaining("rows of 48 elements, not a multiple of 32");
        assertThatThrownBy(() -> GgufFileWriter.layout().tensor("x", GgmlType.F32, 1, 1, 1, 1, 1))
                .hasMessageContaining("5 dimensions");
        assertThatThrownBy(() -> GgufFileWriter.layout().alignment(48))
                .hasMessageContaining("power of two");
        assertThatThrownBy(() -> small().alignment(32)).hasMessageContaining("before adding tensors");
    }

    @Test
    void tooManyOrTooFewBytesFail() throws IOException {
        var sink = Channels.newChannel(new ByteArrayOutputStream());
        try (GgufFileWriter out = small().open(sink, "memory")) {
            assertThatThrownBy(() -> out.write(ByteBuffer.allocate(32 + 204 + 6 + 1)))
                    .hasMessageContaining("memory: 1 bytes more than the tensors hold");
        }
        GgufFileWriter out = small().open(Channels.newChannel(new ByteArrayOutputStream()), "memory");
        out.write(ByteBuffer.wrap(W));
        out.write(ByteBuffer.allocate(10));
        assertThat(out.nextTensor().name()).isEqualTo("q");
        assertThatThrownBy(out::close).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("memory is incomplete: tensor 'q' (2 of 3) has 10 of its 204 bytes");
    }

    @Test
    void writeErrorsNameTheFileAndTheOffset() throws IOException {
        WritableByteChannel full = new WritableByteChannel() {
            private long written;

            @Override
            public int write(ByteBuffer src) throws IOException {
                if (written + src.remaining() > small().dataOffset() + 40) {
                    throw new IOException("No space left on device");
                }
                written += src.remaining();
                int n = src.remaining();
                src.position(src.limit());
                return n;
            }

            @Override
            public boolean isOpen() {
                return true;
            }

            @Override
            public void close() {
            }
        };
        GgufFileWriter out = small().open(full, "/data/model.gguf");
        assertThatThrownBy(() -> out.write(ByteBuffer.wrap(concat(W, Q, V))))
                .isInstanceOf(IOException.class)
                .hasMessageMatching("/data/model.gguf: cannot write at byte [0-9,]+: No space left on device");
    }

    @Test
    void createsOnlyNewFiles(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("m.gguf");
        try (GgufFileWriter out = small().create(file)) {
            out.write(ByteBuffer.wrap(concat(W, Q, V)));
        }
        assertThat(Files.size(file)).isEqualTo(small().fileSize());
        try (GgufFile f = GgufFile.open(file)) {
            assertThat(bytesOf(f.requireTensor("v"))).isEqualTo(V);
        }
        assertThatThrownBy(() -> small().create(file)).isInstanceOf(FileAlreadyExistsException.class);
    }

    @Test
    void refusesAFileLargerThanTheFreeSpace(@TempDir Path dir) throws IOException {
        long free = Files.getFileStore(dir).getUsableSpace();
        var huge = GgufFileWriter.layout().tensor("big", GgmlType.F32, 1L << 20, free / (1L << 22) + 1);
        Path file = dir.resolve("big.gguf");
        assertThatThrownBy(() -> huge.create(file)).isInstanceOf(IOException.class)
                .hasMessageContaining("not enough disk space for " + file).hasMessageContaining("bytes free");
        assertThat(file).doesNotExist();
        assertThat(Arrays.asList(dir.toFile().list())).isEmpty();
    }
}
