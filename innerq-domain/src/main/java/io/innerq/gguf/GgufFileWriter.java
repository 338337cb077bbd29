package io.innerq.gguf;

import io.innerq.tensor.GgmlType;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Writes a GGUF v3 file as a stream: the header (metadata and tensor table, laid out first, in memory) and then the
 * tensors' data, which the caller hands over in pieces of any size, in table order, so a file of many gigabytes
 * never sits in memory. The layout is llama.cpp's: header, zero padding to the alignment, then each tensor's data
 * padded to the alignment (the last one too).
 *
 * <pre>{@code
 * var layout = GgufFileWriter.layout()
 *         .put("general.architecture", "llama")
 *         .put("llama.block_count", GgufValue.u32(32))
 *         .tensor("token_embd.weight", GgmlType.Q4_0, 4096, 128256); // 4096 columns, 128256 rows
 * try (GgufFileWriter out = layout.create(path)) {
 *     out.write(buffer); // the tensors' bytes, in table order, in pieces of any size
 * }
 * }</pre>
 *
 * <p>Unlike a test writer, this one writes valid files only: keys and tensor names are unique, shapes are whole
 * blocks, the alignment is a power of two, and {@link #close()} fails unless every tensor got exactly its bytes.
 */
public final class GgufFileWriter implements AutoCloseable {

    public static final int VERSION = 3;
    public static final String ALIGNMENT_KEY = "general.alignment";

    private static final int ZEROS = 1 << 16;

    /** One tensor of the table. */
    public record TensorEntry(String name, GgmlType type, long[] shape, long offset, long byteSize) {
        public TensorEntry {
            shape = shape.clone();
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }
    }

    /** The metadata and the tensor table of a file to write; {@link #create} starts writing it. */
    public static final class Layout {
        private final Map<String, GgufValue> metadata = new LinkedHashMap<>();
        private final List<TensorEntry> tensors = new ArrayList<>();
        private final Set<String> tensorNames = new HashSet<>();
        private int alignment = GgufFile.DEFAULT_ALIGNMENT;
        private long dataBytes; // the data section, padding included

        private Layout() {
        }

        /** Adds a metadata entry; a key may be written once. */
        public Layout put(String key, GgufValue value) {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(value, "value");
            if (!tensors.isEmpty() && key.equals(ALIGNMENT_KEY)) {
                throw new IllegalStateException("set the alignment before adding tensors");
            }
            if (metadata.putIfAbsent(key, value) != null) {
                throw new IllegalArgumentException("metadata key '%s' is already set".formatted(key));
            }
            if (key.equals(ALIGNMENT_KEY)) {
                if (!(value instanceof GgufValue.Int(var type, long a)) || a <= 0 || a > (1 << 20)
                        || Long.bitCount(a) != 1) {
                    metadata.remove(key);
                    throw new IllegalArgumentException(
                            "general.alignment must be an integer power of two up to 2^20, got " + value);
                }
                alignment = (int) a;
            }
            return this;
        }

        public Layout put(String key, String value) {
            return put(key, GgufValue.string(value));
        }

        /** Writes {@code general.alignment} (UINT32); the data layout follows it. */
        public Layout alignment(int alignment) {
            return put(ALIGNMENT_KEY, GgufValue.u32(alignment));
        }

        /**
         * Adds a tensor. {@code shape} is in GGML order, {@code shape[0]} the contiguous dimension, a whole number of
         * {@code type}'s blocks; 1 to 4 dimensions.
         */
        public Layout tensor(String name, GgmlType type, long... shape) {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(type, "type");
            if (shape.length < 1 || shape.length > GgufFile.MAX_DIMS) {
                throw new IllegalArgumentException("tensor '%s' has %d dimensions; GGUF allows 1 to %d"
                        .formatted(name, shape.length, GgufFile.MAX_DIMS));
            }
            long elements = 1;
            for (long d : shape) {
                if (d <= 0) {
                    throw new IllegalArgumentException("tensor '%s' has a non-positive dimension in %s"
                            .formatted(name, Arrays.toString(shape)));
                }
                elements = Math.multiplyExact(elements, d);
            }
            if (shape[0] % type.blockSize() != 0) {
                throw new IllegalArgumentException("tensor '%s' of type %s has rows of %d elements, not a multiple of %d"
                        .formatted(name, type, shape[0], type.blockSize()));
            }
            if (!tensorNames.add(name)) {
                throw new IllegalArgumentException("tensor '%s' is already in the table".formatted(name));
            }
            long bytes = type.bytesFor(elements);
            tensors.add(new TensorEntry(name, type, shape, dataBytes, bytes));
            dataBytes = align(dataBytes + bytes, alignment);
            return this;
        }

        public int alignment() {
            return alignment;
        }

        /** The tensor table, in file order, with offsets relative to the data section. */
        public List<TensorEntry> tensors() {
            return Collections.unmodifiableList(tensors);
        }

        /** The header's bytes (before the padding that ends it). */
        public byte[] header() {
            var out = new Encoder();
            out.i32(GgufFile.MAGIC).i32(VERSION).i64(tensors.size()).i64(metadata.size());
            metadata.forEach((key, value) -> {
                out.string(key).i32(value.type().ordinal());
                out.value(value);
            });
            for (TensorEntry t : tensors) {
                out.string(t.name).i32(t.shape.length);
                for (long d : t.shape) {
                    out.i64(d);
                }
                out.i32(t.type.id()).i64(t.offset);
            }
            return out.toArray();
        }

        /** Bytes from the start of the file to the first tensor's data. */
        public long dataOffset() {
            return align(header().length, alignment);
        }

        /** The size of the whole file. */
        public long fileSize() {
            return dataOffset() + dataBytes;
        }

        /**
         * Creates {@code path} (it must not exist), checks that its file system has room for the whole file and
         * writes the header. Errors name the path.
         */
        public GgufFileWriter create(Path path) throws IOException {
            byte[] header = header();
            long size = align(header.length, alignment) + dataBytes;
            Path dir = path.toAbsolutePath().getParent();
            FileStore store = Files.getFileStore(dir);
            long free = store.getUsableSpace();
            if (free < size) {
                throw new IOException(("not enough disk space for %s: it needs %,d bytes, %s has %,d bytes free;"
                        + " free some space or write it elsewhere").formatted(path, size, dir, free));
            }
            FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            try {
                return new GgufFileWriter(this, channel, path.toString(), header);
            } catch (IOException | RuntimeException e) {
                channel.close();
                throw e;
            }
        }

        /** Writes the header to {@code channel}, which the writer then owns (closing the writer closes it). */
        public GgufFileWriter open(WritableByteChannel channel, String name) throws IOException {
            return new GgufFileWriter(this, channel, name, header());
        }
    }

    /** An empty layout: no metadata, no tensors, alignment 32. */
    public static Layout layout() {
        return new Layout();
    }

    private final List<TensorEntry> tensors;
    private final int alignment;
    private final WritableByteChannel channel;
    private final String name;
    private final ByteBuffer zeros = ByteBuffer.allocateDirect(ZEROS);
    private long position;      // bytes written so far
    private int current;        // the tensor being written
    private long currentBytes;  // bytes of it written so far
    private boolean closed;

    private GgufFileWriter(Layout layout, WritableByteChannel channel, String name, byte[] header) throws IOException {
        this.tensors = List.copyOf(layout.tensors);
        this.alignment = layout.alignment;
        this.channel = channel;
        this.name = name;
        writeFully(ByteBuffer.wrap(header));
        pad();
        skipEmpty();
    }

    /**
     * Appends the next bytes of tensor data (all of {@code data}'s remaining bytes, which may span tensors); the
     * padding between tensors is added here.
     */
    public void write(ByteBuffer data) throws IOException {
        while (data.hasRemaining()) {
            if (current >= tensors.size()) {
                throw new IllegalStateException("%s: %d bytes more than the tensors hold"
                        .formatted(name, data.remaining()));
            }
            long room = tensors.get(current).byteSize - currentBytes;
            int n = (int) Math.min(room, data.remaining());
            int limit = data.limit();
            data.limit(data.position() + n);
            writeFully(data);
            data.limit(limit);
            currentBytes += n;
            skipEmpty();
        }
    }

    /** The tensor the next byte belongs to, or null when all are written. */
    public TensorEntry nextTensor() {
        return current < tensors.size() ? tensors.get(current) : null;
    }

    /** Bytes written so far, header and padding included. */
    public long position() {
        return position;
    }

    /** Closes the file; fails when a tensor is missing bytes (the file is then incomplete). */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        channel.close();
        if (current < tensors.size()) {
            TensorEntry t = tensors.get(current);
            throw new IllegalStateException("%s is incomplete: tensor '%s' (%d of %d) has %,d of its %,d bytes"
                    .formatted(name, t.name, current + 1, tensors.size(), currentBytes, t.byteSize));
        }
    }

    /** Moves past a finished tensor, padding after it. */
    private void skipEmpty() throws IOException {
        while (current < tensors.size() && currentBytes == tensors.get(current).byteSize) {
            pad();
            current++;
            currentBytes = 0;
        }
    }

    private void pad() throws IOException {
        long n = align(position, alignment) - position;
        while (n > 0) {
            zeros.clear().limit((int) Math.min(n, ZEROS));
            n -= zeros.remaining();
            writeFully(zeros);
        }
    }

    private void writeFully(ByteBuffer b) throws IOException {
        try {
            while (b.hasRemaining()) {
                position += channel.write(b);
            }
        } catch (IOException e) {
            throw new IOException("%s: cannot write at byte %,d: %s".formatted(name, position, e.getMessage()), e);
        }
    }

    static long align(long x, int alignment) {
        return (x + alignment - 1) / alignment * alignment;
    }

    /** A growable little-endian buffer for the header. */
    private static final class Encoder {
        private ByteBuffer buf = ByteBuffer.allocate(1 << 12).order(ByteOrder.LITTLE_ENDIAN);

        private ByteBuffer room(int n) {
            if (buf.remaining() < n) {
                int size = (int) Math.min(Integer.MAX_VALUE - 8, Math.max(2L * buf.capacity(), buf.position() + (long) n));
                buf = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN).put(buf.flip());
            }
            return buf;
        }

        Encoder i32(int v) {
            room(4).putInt(v);
            return this;
        }

        Encoder i64(long v) {
            room(8).putLong(v);
            return this;
        }

        Encoder string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            room(8 + b.length).putLong(b.length).put(b);
            return this;
        }

        void value(GgufValue value) {
            switch (value) {
                case GgufValue.Int(GgufValueType type, long v) -> {
                    switch (type) {
                        case UINT8, INT8 -> room(1).put((byte) v);
                        case UINT16, INT16 -> room(2).putShort((short) v);
                        case UINT32, INT32 -> room(4).putInt((int) v);
                        default -> room(8).putLong(v);
                    }
                }
                case GgufValue.F32(float v) -> room(4).putFloat(v);
                case GgufValue.F64(double v) -> room(8).putDouble(v);
                case GgufValue.Bool(boolean v) -> room(1).put((byte) (v ? 1 : 0));
                case GgufValue.Str(String s) -> string(s);
                case GgufValue.Arr(GgufArray a) -> array(a);
            }
        }

        void array(GgufArray a) {
            i32(a.elementType().ordinal()).i64(a.length());
            switch (a.values()) {
                case int[] v -> {
                    int width = switch (a.elementType()) {
                        case UINT8, INT8 -> 1;
                        case UINT16, INT16 -> 2;
                        default -> 4;
                    };
                    room(v.length * width);
                    for (int x : v) {
                        switch (width) {
                            case 1 -> buf.put((byte) x);
                            case 2 -> buf.putShort((short) x);
                            default -> buf.putInt(x);
                        }
                    }
                }
                case long[] v -> {
                    room(8 * v.length);
                    for (long x : v) {
                        buf.putLong(x);
                    }
                }
                case float[] v -> {
                    room(4 * v.length);
                    for (float x : v) {
                        buf.putFloat(x);
                    }
                }
                case double[] v -> {
                    room(8 * v.length);
                    for (double x : v) {
                        buf.putDouble(x);
                    }
                }
                case boolean[] v -> {
                    room(v.length);
                    for (boolean x : v) {
                        buf.put((byte) (x ? 1 : 0));
                    }
                }
                case String[] v -> {
                    for (String s : v) {
                        string(s);
                    }
                }
                case GgufArray[] v -> {
                    for (GgufArray nested : v) {
                        array(nested);
                    }
                }
                default -> throw new AssertionError(a.values().getClass()); // GgufValue.Arr checked the kind
            }
        }

        byte[] toArray() {
            return Arrays.copyOf(buf.array(), buf.position());
        }
    }
}
