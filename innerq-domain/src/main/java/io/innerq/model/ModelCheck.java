package io.innerq.model;

import io.innerq.gguf.GgufFile;
import io.innerq.gguf.GgufFormatException;

import java.util.Locale;

/**
 * The refusals of a model file that parses but describes a model that cannot run. Each one is a
 * {@link GgufFormatException} at the byte of the metadata value or tensor entry it is about, and its message names
 * the key or tensor, its value and what was expected.
 */
final class ModelCheck {

    private final GgufFile gguf;

    ModelCheck(GgufFile gguf) {
        this.gguf = gguf;
    }

    /** A refusal of the metadata value {@code key}. */
    GgufFormatException metadata(String key, String problem) {
        return new GgufFormatException(gguf.source(), gguf.offsetOf(key), "metadata '" + key + "'", problem);
    }

    /** A refusal of the tensor {@code name}, at its entry in the tensor table. */
    GgufFormatException tensor(String name, String problem) {
        return new GgufFormatException(gguf.source(), gguf.tensorEntryOffset(name), "tensor '" + name + "'", problem);
    }

    /** A refusal of the tensor {@code name} at byte {@code offset} of its data. */
    GgufFormatException tensorData(String name, long offset, String problem) {
        return new GgufFormatException(gguf.source(), offset, "tensor '" + name + "'", problem);
    }

    /** A byte count for messages: {@code 1.2 GiB}, {@code 512 bytes}. Any size, however large. */
    static String size(double bytes) {
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"};
        if (bytes < 1024) {
            return "%.0f bytes".formatted(bytes);
        }
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
