package io.innerq.model.synthetic;

import io.innerq.gguf.GgufFileWriter;
import io.innerq.tensor.GgmlType;
import io.innerq.tensor.TensorEncoder;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.LongConsumer;
import java.util.stream.IntStream;

/**
 * Streams the tensors of a synthetic model into a {@link GgufFileWriter}: rows are generated and encoded in parallel
 * into one of two large buffers while the other is being written, so the disk and the cores both stay busy.
 */
final class WeightFiller {

    /** Bytes generated per hand-over to the writer. */
    static final int CHUNK_BYTES = 32 << 20;

    private static final long GOLDEN = 0x9E37_79B9_7F4A_7C15L;

    /** One tensor to write: its table entry and how its values are made. */
    record Planned(String name, GgmlType type, long[] shape, Fill fill) {
        int cols() {
            return Math.toIntExact(shape[0]);
        }

        long rows() {
            long n = 1;
            for (int d = 1; d < shape.length; d++) {
                n *= shape[d];
            }
            return n;
        }

        long rowBytes() {
            return type.bytesFor(shape[0]);
        }
    }

    /** How a tensor's values are made. */
    sealed interface Fill {
        /** Seeded uniform values in {@code [-bound, bound)}, row by row. */
        record Uniform(float bound) implements Fill {
        }

        /** All ones (norm weights). */
        record Ones() implements Fill {
        }

        /** The given values (a vector). */
        record Values(float[] values) implements Fill {
        }
    }

    private final long seed;

    WeightFiller(long seed) {
        this.seed = seed;
    }

    /** Writes every tensor's data, in order, telling {@code progress} the file position after each chunk. */
    void write(List<Planned> tensors, GgufFileWriter out, LongConsumer progress) throws IOException {
        long largestRow = 0;
        long largestTensor = 0;
        for (Planned t : tensors) {
            largestRow = Math.max(largestRow, t.rowBytes());
            largestTensor = Math.max(largestTensor, t.rowBytes() * t.rows());
        }
        int capacity = Math.toIntExact(Math.max(largestRow, Math.min(CHUNK_BYTES, largestTensor)));
        ByteBuffer[] buffers = {ByteBuffer.allocateDirect(capacity), ByteBuffer.allocateDirect(capacity)};
        ExecutorService writer = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "synthetic-model-writer");
            t.setDaemon(true);
            return t;
        });
        try {
            Future<?> pending = null;
            int next = 0;
            for (Planned t : tensors) {
                long rowsPerChunk = Math.max(1, capacity / t.rowBytes());
                for (long row = 0; row < t.rows(); row += rowsPerChunk) {
                    int n = (int) Math.min(rowsPerChunk, t.rows() - row);
                    ByteBuffer buffer = buffers[next++ & 1].clear();
                    fill(t, row, n, buffer); // the other buffer may still be being written
                    buffer.flip();
                    await(pending);
                    progress.accept(out.position());
                    pending = writer.submit(() -> {
                        out.write(buffer);
                        return null;
                    });
                }
            }
            await(pending);
            progress.accept(out.position());
        } finally {
            writer.shutdownNow();
        }
    }

    /** Encodes rows {@code [first, first + n)} of {@code t} at the start of {@code buffer}. */
    private void fill(Planned t, long first, int n, ByteBuffer buffer) {
        int cols = t.cols();
        int rowBytes = Math.toIntExact(t.rowBytes());
        long tensorSeed = mix(seed + mix(t.name().hashCode() * GOLDEN));
        int tasks = (long) n * cols < (1 << 16) ? 1 : Math.min(n, 4 * Runtime.getRuntime().availableProcessors());
        IntStream.range(0, tasks).parallel().forEach(task -> {
            float[] values = new float[cols];
            for (int i = task * n / tasks; i < (task + 1) * n / tasks; i++) {
                switch (t.fill()) {
                    case Fill.Uniform(float bound) -> uniform(tensorSeed, first + i, bound, values);
                    case Fill.Ones() -> Arrays.fill(values, 1f);
                    case Fill.Values(float[] v) -> System.arraycopy(v, 0, values, 0, cols);
                }
                ByteBuffer row = buffer.slice(i * rowBytes, rowBytes).order(ByteOrder.LITTLE_ENDIAN);
                TensorEncoder.encode(t.type(), values, 0, cols, row);
            }
        });
        buffer.position(n * rowBytes);
    }

    /** Row {@code row}'s values: a SplitMix64 stream seeded by the tensor and the row, two 24-bit uniforms a step. */
    static void uniform(long tensorSeed, long row, float bound, float[] out) {
        long state = mix(tensorSeed + row * GOLDEN);
        float scale = 2 * bound * 0x1p-24f;
        int i = 0;
        for (; i + 1 < out.length; i += 2) {
            long z = mix(state += GOLDEN);
            out[i] = (z >>> 40) * scale - bound;
            out[i + 1] = ((z >>> 16) & 0xFF_FFFF) * scale - bound;
        }
        if (i < out.length) {
            out[i] = (mix(state + GOLDEN) >>> 40) * scale - bound;
        }
    }

    /** SplitMix64's finalizer. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58_476D_1CE4_E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D0_49BB_1331_11EBL;
        return z ^ (z >>> 31);
    }

    private static void await(Future<?> pending) throws IOException {
        if (pending == null) {
            return;
        }
        try {
            pending.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while writing", e);
        } catch (ExecutionException e) {
            switch (e.getCause()) {
                case IOException io -> throw io;
                case RuntimeException r -> throw r;
                case Error err -> throw err;
                default -> throw new IOException(e.getCause());
            }
        }
    }
}
