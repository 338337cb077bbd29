package io.innerq.testing;

import io.innerq.gguf.GgufArray;
import io.innerq.gguf.GgufFile;
import io.innerq.gguf.GgufFileWriter;
import io.innerq.gguf.GgufTensorInfo;
import io.innerq.gguf.GgufValue;
import io.innerq.gguf.GgufValueType;
import io.innerq.tensor.GgmlType;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A valid GGUF model rewritten with changes, for tests of what a loader refuses: metadata set or removed, tensors
 * replaced (another shape, other bytes) or removed. Everything else is copied as it is.
 *
 * <pre>{@code
 * byte[] bad = GgufEdit.of(TestModels.stories260K())
 *         .set("llama.rope.freq_base", GgufValue.f32(0))
 *         .f32("blk.0.attn_norm.weight", 3, Float.NaN)
 *         .toBytes();
 * }</pre>
 */
public final class GgufEdit {

    /** A tensor as it will be written: its type, its shape (GGML order) and its bytes. */
    public record TensorData(GgmlType type, long[] shape, byte[] bytes) {
    }

    private final Map<String, GgufValue> metadata = new LinkedHashMap<>();
    private final Map<String, TensorData> tensors = new LinkedHashMap<>();

    private GgufEdit() {
    }

    /** The file at {@code path}, read whole. */
    public static GgufEdit of(Path path) {
        try (GgufFile gguf = GgufFile.open(path)) {
            var edit = new GgufEdit();
            gguf.metadata().forEach((key, value) -> {
                if (!key.equals(GgufFileWriter.ALIGNMENT_KEY)) {
                    edit.metadata.put(key, value(value));
                }
            });
            for (GgufTensorInfo info : gguf.tensorInfos().values()) {
                MemorySegment data = gguf.requireTensor(info.name()).data();
                edit.tensors.put(info.name(), new TensorData(info.type(), info.shape(),
                        data.toArray(ValueLayout.JAVA_BYTE)));
            }
            return edit;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Sets (or adds) a metadata value. */
    public GgufEdit set(String key, GgufValue value) {
        metadata.put(key, value);
        return this;
    }

    public GgufEdit remove(String key) {
        metadata.remove(key);
        return this;
    }

    /** The current value of a metadata key, as it will be written. */
    public GgufValue get(String key) {
        return metadata.get(key);
    }

    /** The tensor as it will be written. */
    public TensorData tensor(String name) {
        return tensors.get(name);
    }

    /** Replaces (or adds) a tensor. */
    public GgufEdit tensor(String name, GgmlType type, long[] shape, byte[] bytes) {
        tensors.put(name, new TensorData(type, shape.clone(), bytes.clone()));
        return this;
    }

    public GgufEdit removeTensor(String name) {
        tensors.remove(name);
        return this;
    }

    /** Writes {@code value} as element {@code index} of an F32 tensor. */
    public GgufEdit f32(String tensor, int index, float value) {
        TensorData t = tensors.get(tensor);
        if (t == null || t.type() != GgmlType.F32) {
            throw new IllegalArgumentException("no F32 tensor '" + tensor + "'");
        }
        ByteBuffer.wrap(t.bytes()).order(ByteOrder.LITTLE_ENDIAN).putFloat(index * Float.BYTES, value);
        return this;
    }

    /** Changes the bytes of a tensor in place. */
    public GgufEdit bytes(String tensor, Consumer<ByteBuffer> change) {
        change.accept(ByteBuffer.wrap(tensors.get(tensor).bytes()).order(ByteOrder.LITTLE_ENDIAN));
        return this;
    }

    /** The edited file's bytes. */
    public byte[] toBytes() {
        var layout = GgufFileWriter.layout();
        metadata.forEach(layout::put);
        tensors.forEach((name, t) -> layout.tensor(name, t.type(), t.shape()));
        var out = new ByteArrayOutputStream();
        try (GgufFileWriter writer = layout.open(Channels.newChannel(out), "edited.gguf")) {
            for (TensorData t : tensors.values()) {
                writer.write(ByteBuffer.wrap(t.bytes()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** Writes the edited file to {@code path}. */
    public Path write(Path path) {
        try {
            return Files.write(path, toBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A value as read ({@code Long} for every integer) as it can be written back. */
    private static GgufValue value(Object v) {
        return switch (v) {
            case Long l when l >= 0 && l <= 0xffff_ffffL -> GgufValue.u32(l);
            case Long l -> GgufValue.i64(l);
            case Float f -> GgufValue.f32(f);
            case Double d -> GgufValue.f64(d);
            case Boolean b -> GgufValue.bool(b);
            case String s -> GgufValue.string(s);
            case GgufArray a -> GgufValue.array(a);
            default -> throw new IllegalArgumentException("cannot write " + v.getClass());
        };
    }

    /** {@code count} strings, as a token array. */
    public static GgufValue strings(String... values) {
        return GgufValue.array(new GgufArray(GgufValueType.STRING, values));
    }
}
