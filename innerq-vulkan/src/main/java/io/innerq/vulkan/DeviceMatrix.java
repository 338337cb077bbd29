package io.innerq.vulkan;

import io.innerq.tensor.GgmlType;
import io.innerq.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A weight matrix on the device in its stored GGML type, uploaded once. Owns its buffer. The bits are GGML's; only
 * their order changes, so that every region starts on 16 bytes and a 16-byte load holds whole codes
 * ({@code matmul.comp} reads it). Layout of the buffer, {@code rows} x {@code cols}:
 * <ul>
 *   <li>F32: fp32 {@code [rows][ceil(cols / 4) * 4]}, each row zero-padded to 16 bytes.</li>
 *   <li>F16, BF16: 16-bit {@code [rows][ceil(cols / 8) * 8]}, each row zero-padded to 16 bytes.</li>
 *   <li>Q8_0: codes int8 {@code [rows][cols]} (each block's 32 codes, blocks in order) from byte 0; then, from
 *       {@link #scaleOffset()}, scales fp16 {@code [rows][cols / 32]}.</li>
 *   <li>Q4_0: codes {@code [rows][cols / 32][16 bytes]} (each block's 16 bytes of 4-bit codes, as stored: byte j
 *       holds element j in its low nibble and j + 16 in its high one) from byte 0; then scales fp16
 *       {@code [rows][cols / 32]} from {@link #scaleOffset()}.</li>
 *   <li>Q4_K: as stored, blocks {@code [rows][cols / 256]} of 144 bytes (fp16 d, fp16 dmin, 12 bytes of 6-bit scales
 *       and mins, 128 bytes of 4-bit codes); no scale region.</li>
 *   <li>Q6_K: blocks {@code [rows][cols / 256]} of 208 bytes (ql[128], qh[64], int8 scales[16]: the stored block
 *       without its d) from byte 0; then d fp16 {@code [rows][cols / 256]} from {@link #scaleOffset()}.</li>
 * </ul>
 * fp16 values of a scale region are two per 32-bit word, element i in the low half of word i / 2 when i is even.
 */
final class DeviceMatrix implements AutoCloseable {

    /** Bytes staged per copy while uploading. */
    private static final long STAGING = 64L << 20;

    private final String name;
    private final GgmlType type;
    private final int rows;
    private final int cols;
    private final long bytesRead;
    private final long scaleOffset;
    private final VulkanBuffer buffer;

    private DeviceMatrix(Tensor t, long scaleOffset, VulkanBuffer buffer) {
        this.name = t.name();
        this.type = t.type();
        this.rows = t.rows();
        this.cols = t.cols();
        this.bytesRead = t.data().byteSize();
        this.scaleOffset = scaleOffset;
        this.buffer = buffer;
    }

    /** Uploads {@code t} (a matrix of {@code t.rows()} rows of {@code t.cols()} elements) in the layout above. */
    static DeviceMatrix upload(VulkanDevice device, Tensor t) {
        int rows = t.rows();
        int cols = t.cols();
        GgmlType type = t.type();
        long rowBytes = t.rowBytes();
        long codes = switch (type) {
            case F32, F16, BF16 -> rows * align16(rowBytes);
            case Q8_0 -> (long) rows * cols;
            case Q4_0 -> (long) rows * cols / 2;
            case Q4_K -> t.data().byteSize();
            case Q6_K -> (long) rows * (cols / 256) * 208;
        };
        long scales = switch (type) {
            case F32, F16, BF16, Q4_K -> 0;
            case Q8_0, Q4_0 -> 2L * rows * (cols / 32);
            case Q6_K -> 2L * rows * (cols / 256);
        };
        long size = align16(codes) + align16(scales);
        long limit = device.info().maxStorageBufferRange();
        if (size > limit) {
            throw new IllegalArgumentException(("%s (%s, %d x %d) needs %,d bytes on the device, more than one storage "
                    + "buffer may hold on %s (%,d): run this model on the CPU backend")
                    .formatted(t.name(), type, rows, cols, size, device.info().name(), limit));
        }
        VulkanBuffer buffer = VulkanBuffer.deviceLocal(device, size);
        try (Stager out = new Stager(device, buffer, size)) {
            byte[] row = new byte[Math.toIntExact(rowBytes)];
            MemorySegment data = t.data();
            switch (type) {
                case F32, F16, BF16 -> {
                    long pad = align16(rowBytes) - rowBytes;
                    for (int r = 0; r < rows; r++) {
                        MemorySegment.copy(data, r * rowBytes, out.segment(rowBytes), 0, rowBytes);
                        out.advance(rowBytes);
                        out.zeros(pad);
                    }
                }
                case Q8_0, Q4_0 -> {
                    int code = type == GgmlType.Q8_0 ? 32 : 16;
                    blockParts(data, rows, rowBytes, row, type.blockBytes(), 2, code, out);
                    out.zeros(align16(codes) - codes);
                    blockParts(data, rows, rowBytes, row, type.blockBytes(), 0, 2, out);
                }
                case Q4_K -> out.put(data);
                case Q6_K -> {
                    blockParts(data, rows, rowBytes, row, type.blockBytes(), 0, 208, out);
                    out.zeros(align16(codes) - codes);
                    blockParts(data, rows, rowBytes, row, type.blockBytes(), 208, 2, out);
                }
            }
            out.zeros(size - out.written());
        } catch (RuntimeException e) {
            buffer.close();
            throw e;
        }
        return new DeviceMatrix(t, align16(codes), buffer);
    }

    /** Bytes {@code [from, from + n)} of every block, rows in order. */
    private static void blockParts(MemorySegment data, int rows, long rowBytes, byte[] row, int blockBytes, int from,
                                   int n, Stager out) {
        int blocks = row.length / blockBytes;
        for (int r = 0; r < rows; r++) {
            MemorySegment.copy(data, r * rowBytes, MemorySegment.ofArray(row), 0, rowBytes);
            MemorySegment dst = out.segment((long) blocks * n);
            for (int b = 0; b < blocks; b++) {
                MemorySegment.copy(row, b * blockBytes + from, dst, ValueLayout.JAVA_BYTE,
                        (long) b * n, n);
            }
            out.advance((long) blocks * n);
        }
    }

    private static long align16(long bytes) {
        return (bytes + 15) & ~15L;
    }

    /** Fills a device buffer front to back through a host-visible buffer, {@link #STAGING} bytes per copy. */
    private static final class Stager implements AutoCloseable {
        private final VulkanBuffer host;
        private final MemorySegment mapped;
        private final CommandBatch batch;
        private final VulkanBuffer target;
        private long flushed;   // bytes of target already copied
        private long fill;      // bytes staged

        Stager(VulkanDevice device, VulkanBuffer target, long size) {
            this.target = target;
            this.host = VulkanBuffer.hostVisible(device, Math.min(size, STAGING));
            this.mapped = MemorySegment.ofBuffer(host.mapped());
            this.batch = new CommandBatch(device);
        }

        /** Room for {@code n} bytes at the staging position (n at most the staging size), flushing first if needed. */
        MemorySegment segment(long n) {
            if (fill + n > mapped.byteSize()) {
                flush();
            }
            return mapped.asSlice(fill, n);
        }

        void advance(long n) {
            fill += n;
        }

        void put(MemorySegment src) {
            for (long at = 0; at < src.byteSize(); ) {
                long n = Math.min(mapped.byteSize() - fill, src.byteSize() - at);
                MemorySegment.copy(src, at, mapped, fill, n);
                fill += n;
                at += n;
                if (fill == mapped.byteSize()) {
                    flush();
                }
            }
        }

        void zeros(long n) {
            while (n > 0) {
                long k = Math.min(n, mapped.byteSize() - fill);
                mapped.asSlice(fill, k).fill((byte) 0);
                fill += k;
                n -= k;
                if (fill == mapped.byteSize()) {
                    flush();
                }
            }
        }

        long written() {
            return flushed + fill;
        }

        private void flush() {
            if (fill > 0) {
                batch.begin().copy(host, 0, target, flushed, fill).submitAndWait();
                flushed += fill;
                fill = 0;
            }
        }

        @Override
        public void close() {
            try {
                flush();
            } finally {
                batch.close();
                host.close();
            }
        }
    }

    String name() {
        return name;
    }

    int rows() {
        return rows;
    }

    int cols() {
        return cols;
    }

    GgmlType type() {
        return type;
    }

    /** Bytes one product reads: the stored weight bytes (GGML's size of the tensor). */
    long bytesRead() {
        return bytesRead;
    }

    /** Byte offset of the scale region (Q8_0, Q4_0, Q6_K; a multiple of 16). */
    long scaleOffset() {
        return scaleOffset;
    }

    VulkanBuffer buffer() {
        return buffer;
    }

    @Override
    public void close() {
        buffer.close();
    }
}
