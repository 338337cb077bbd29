package io.innerq.tokenizer;

import io.innerq.gguf.GgufFile;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** Writes a tensor-less GGUF v3 file in memory, for tokenizer metadata tests. */
final class GgufBytes {

    private static final int UINT32 = 4, INT32 = 5, FLOAT32 = 6, BOOL = 7, STRING = 8, ARRAY = 9;

    private final Map<String, Object> metadata = new LinkedHashMap<>();

    /** Values: String, Integer (UINT32), Boolean, String[], int[] (INT32), float[]. */
    GgufBytes put(String key, Object value) {
        metadata.put(key, value);
        return this;
    }

    GgufFile parse() {
        var out = new ByteArrayOutputStream();
        i32(out, 0x46554747);
        i32(out, 3);
        i64(out, 0);
        i64(out, metadata.size());
        metadata.forEach((key, value) -> {
            string(out, key);
            switch (value) {
                case String s -> { i32(out, STRING); string(out, s); }
                case Integer i -> { i32(out, UINT32); i32(out, i); }
                case Boolean b -> { i32(out, BOOL); out.write(b ? 1 : 0); }
                case String[] a -> {
                    i32(out, ARRAY); i32(out, STRING); i64(out, a.length);
                    for (String s : a) {
                        string(out, s);
                    }
                }
                case int[] a -> {
                    i32(out, ARRAY); i32(out, INT32); i64(out, a.length);
                    for (int v : a) {
                        i32(out, v);
                    }
                }
                case float[] a -> {
                    i32(out, ARRAY); i32(out, FLOAT32); i64(out, a.length);
                    for (float v : a) {
                        i32(out, Float.floatToRawIntBits(v));
                    }
                }
                default -> throw new IllegalArgumentException("unsupported value " + value);
            }
        });
        return GgufFile.parse(MemorySegment.ofArray(out.toByteArray()), "test.gguf");
    }

    private static void i32(ByteArrayOutputStream out, int v) {
        out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array());
    }

    private static void i64(ByteArrayOutputStream out, long v) {
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
    }

    private static void string(ByteArrayOutputStream out, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        i64(out, b.length);
        out.writeBytes(b);
    }
}
