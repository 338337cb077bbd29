package io.innerq.cache;

import io.innerq.quant.BitPacking;
import io.innerq.quant.QuantMode;

import java.util.HashSet;
import java.util.Set;

/**
 * An InnerQ cache configuration: keys quantized per token over {@code groupSize} consecutive channels, values per
 * channel over {@code groupSize} consecutive tokens, the first {@code sink} tokens and at least the {@code recent}
 * most recent ones in fp32, and optionally per-channel key normalization.
 *
 * <p>String form ({@link #spec()}, read by {@link #parse} and {@link KvMode#parse}):
 * {@code innerq:k<bits>[a|h],v<bits>[a|h][,g<n>][,s<n>][,r<n>][,norm|,nonorm]}, items in any order, each at most
 * once. Bits are 2, 3, 4 or 8; no suffix means symmetric, {@code a} asymmetric, {@code h} hybrid. Defaults:
 * {@code g32,s32,r96,norm}. Example: {@code innerq:k3,v2h,g32,s32,r96,norm} is {@link #HYBRID}.
 *
 * <p>Key groups must divide head_dim; when head_dim is smaller than {@code groupSize} (stories260K: 8) a key group is
 * the whole head ({@link #keyGroupSize}). Value groups are always {@code groupSize} tokens.
 *
 * @param groupSize        G, a power of two in [4, 256]
 * @param sink             S, tokens from the start kept in fp32 for ever
 * @param recent           R, the fewest most recent tokens kept in fp32
 * @param keyNormalization divide keys by {@code f_c = sqrt(max_t |K[t][c]|)} before quantizing, fold f into q
 */
public record InnerqConfig(int keyBits, int valueBits, QuantMode keyMode, QuantMode valueMode, int groupSize,
                           int sink, int recent, boolean keyNormalization) implements KvMode {

    /** K 3-bit symmetric, V 3-bit symmetric: 3.5 bits/element. */
    public static final InnerqConfig BASE = new InnerqConfig(3, 3, QuantMode.SYMMETRIC, QuantMode.SYMMETRIC, 32, 32, 96, true);
    /** K 3-bit symmetric, V 2-bit symmetric: 3.0 bits/element. */
    public static final InnerqConfig SMALL = new InnerqConfig(3, 2, QuantMode.SYMMETRIC, QuantMode.SYMMETRIC, 32, 32, 96, true);
    /** K 3-bit symmetric, V 2-bit hybrid: 3.0 bits/element plus the zero points of asymmetric value groups. */
    public static final InnerqConfig HYBRID = new InnerqConfig(3, 2, QuantMode.SYMMETRIC, QuantMode.HYBRID, 32, 32, 96, true);
    /** K 4-bit symmetric, V 4-bit symmetric: 4.5 bits/element. */
    public static final InnerqConfig FOUR = new InnerqConfig(4, 4, QuantMode.SYMMETRIC, QuantMode.SYMMETRIC, 32, 32, 96, true);

    static final String PREFIX = "innerq:";
    private static final int MAX_WINDOW = 1 << 20;

    public InnerqConfig {
        if (!BitPacking.supports(keyBits) || !BitPacking.supports(valueBits)) {
            throw new IllegalArgumentException("InnerQ codes are 2, 3, 4 or 8 bits, got keys %d and values %d"
                    .formatted(keyBits, valueBits));
        }
        if (keyMode == null || valueMode == null) {
            throw new IllegalArgumentException("key and value quantization modes are required");
        }
        if (groupSize < 4 || groupSize > 256 || Integer.bitCount(groupSize) != 1) {
            throw new IllegalArgumentException("the group size must be a power of two from 4 to 256, got " + groupSize);
        }
        if (sink < 0 || sink > MAX_WINDOW || recent < 0 || recent > MAX_WINDOW) {
            throw new IllegalArgumentException("sink and recent windows must be 0 to %d tokens, got sink %d, recent %d"
                    .formatted(MAX_WINDOW, sink, recent));
        }
    }

    /** The configuration written as {@code innerq:...}; see the class comment. */
    public static InnerqConfig parse(String text) {
        String s = text.strip();
        if (!s.startsWith(PREFIX)) {
            throw new IllegalArgumentException("an InnerQ configuration starts with '%s', got '%s'".formatted(PREFIX, text));
        }
        int keyBits = 0;
        int valueBits = 0;
        QuantMode keyMode = null;
        QuantMode valueMode = null;
        int group = 32;
        int sink = 32;
        int recent = 96;
        boolean norm = true;
        Set<Character> seen = new HashSet<>();
        for (String item : s.substring(PREFIX.length()).split(",", -1)) {
            try {
                char key = item.isEmpty() ? '?' : item.charAt(0);
                if (item.equals("norm") || item.equals("nonorm")) {
                    key = 'n';
                }
                if (!seen.add(key)) {
                    throw new IllegalArgumentException("repeated item");
                }
                switch (key) {
                    case 'k', 'v' -> {
                        String body = item.substring(1);
                        String suffix = body.endsWith("a") || body.endsWith("h") ? body.substring(body.length() - 1) : "";
                        int bits = Integer.parseInt(body.substring(0, body.length() - suffix.length()));
                        if (key == 'k') {
                            keyBits = bits;
                            keyMode = QuantMode.ofSuffix(suffix);
                        } else {
                            valueBits = bits;
                            valueMode = QuantMode.ofSuffix(suffix);
                        }
                    }
                    case 'g' -> group = Integer.parseInt(item.substring(1));
                    case 's' -> sink = Integer.parseInt(item.substring(1));
                    case 'r' -> recent = Integer.parseInt(item.substring(1));
                    case 'n' -> norm = item.equals("norm");
                    default -> throw new IllegalArgumentException("unknown item");
                }
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(("cannot read '%s' in InnerQ configuration '%s' (%s): write "
                        + "innerq:k<bits>[a|h],v<bits>[a|h][,g<n>][,s<n>][,r<n>][,norm|,nonorm], e.g. "
                        + "innerq:k3,v2h,g32,s32,r96,norm").formatted(item, text, e.getMessage()), e);
            }
        }
        if (keyMode == null || valueMode == null) {
            throw new IllegalArgumentException("InnerQ configuration '%s' needs both k<bits> and v<bits>, e.g. innerq:k3,v2h"
                    .formatted(text));
        }
        return new InnerqConfig(keyBits, valueBits, keyMode, valueMode, group, sink, recent, norm);
    }

    /** The canonical string form, every item written: {@code innerq:k3,v2h,g32,s32,r96,norm}. */
    public String spec() {
        return "%sk%d%s,v%d%s,g%d,s%d,r%d,%s".formatted(PREFIX, keyBits, keyMode.suffix(), valueBits, valueMode.suffix(),
                groupSize, sink, recent, keyNormalization ? "norm" : "nonorm");
    }

    /** The preset's name for a preset, else {@link #spec()}. */
    @Override
    public String name() {
        if (equals(BASE)) {
            return "innerq-base";
        } else if (equals(SMALL)) {
            return "innerq-small";
        } else if (equals(HYBRID)) {
            return "innerq-hybrid";
        } else if (equals(FOUR)) {
            return "innerq-4";
        }
        return spec();
    }

    /** Channels per key group: {@code groupSize}, or head_dim when smaller (one key group per head). */
    public int keyGroupSize(int headDim) {
        return Groups.channels(groupSize, headDim, "InnerQ configuration " + name() + ": its key group of");
    }

    /** 32-bit words of one key group's codes. */
    int keyWords(int headDim) {
        return BitPacking.words(keyBits, keyGroupSize(headDim));
    }

    /** 32-bit words of one value group's codes. */
    int valueWords() {
        return BitPacking.words(valueBits, groupSize);
    }

    @Override
    public double bitsPerElement(int headDim) {
        int gk = keyGroupSize(headDim);
        double k = (keyWords(headDim) * 32.0 + 16 + (keyMode == QuantMode.ASYMMETRIC ? 16 : 0)) / gk;
        double v = (valueWords() * 32.0 + 16 + (valueMode == QuantMode.ASYMMETRIC ? 16 : 0)) / groupSize;
        return (k + v) / 2;
    }

    @Override
    public String describe(int headDim) {
        int gk = keyGroupSize(headDim);
        String keyGroupNote = gk < groupSize
                ? "; head_dim %d < %d: one key group of %d channels per head".formatted(headDim, groupSize, gk)
                : "";
        return ("%s: K %d-bit %s per token over %d channels, V %d-bit %s per channel over %d tokens (stored "
                + "transposed), fp16 scales%s; first %d and last %d..%d tokens in fp32; key normalization %s; exact "
                + "prefill; %.2f bits/element outside the windows%s%s")
                .formatted(name(), keyBits, word(keyMode), gk, valueBits, word(valueMode), groupSize,
                        keyMode != QuantMode.SYMMETRIC || valueMode != QuantMode.SYMMETRIC ? " and zero points" : "",
                        sink, recent, recent + groupSize - 1, keyNormalization ? "on" : "off", bitsPerElement(headDim),
                        valueMode == QuantMode.HYBRID || keyMode == QuantMode.HYBRID
                                ? " (+ 16 bits per asymmetric hybrid group)" : "",
                        keyGroupNote);
    }

    private static String word(QuantMode m) {
        return switch (m) {
            case SYMMETRIC -> "symmetric";
            case ASYMMETRIC -> "asymmetric";
            case HYBRID -> "hybrid";
        };
    }

    @Override
    public String toString() {
        return name();
    }
}
