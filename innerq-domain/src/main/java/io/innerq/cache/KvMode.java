package io.innerq.cache;

import io.innerq.quant.BitPacking;

import java.util.List;
import java.util.Locale;

/**
 * How a KV cache stores keys and values. Every mode has a name that {@link #parse} reads back; custom InnerQ
 * configurations are written {@code innerq:k3,v2h,g32,s32,r96,norm} ({@link InnerqConfig#parse}).
 *
 * <table>
 *   <caption>Modes</caption>
 *   <tr><th>name</th><th>keys</th><th>values</th><th>full precision</th></tr>
 *   <tr><td>fp32</td><td colspan="2">fp32</td><td>all</td></tr>
 *   <tr><td>fp16</td><td colspan="2">fp16, converted on store</td><td>none</td></tr>
 *   <tr><td>q8_0</td><td colspan="2">llama.cpp q8_0: per token, groups of 32 channels, 8-bit, fp16 scale</td><td>none</td></tr>
 *   <tr><td>kivi-2, kivi-4</td><td>asymmetric, per channel over 32 tokens</td><td>asymmetric, per token over 32 channels</td>
 *       <td>the 128 most recent tokens; the whole prompt while it runs</td></tr>
 *   <tr><td>innerq-*</td><td>per token over G channels</td><td>per channel over G tokens (transposed)</td>
 *       <td>sink S + at least R recent tokens; the whole prompt while it runs</td></tr>
 * </table>
 */
public sealed interface KvMode permits KvMode.Fp32, KvMode.Fp16, KvMode.Q8, KvMode.Kivi, InnerqConfig {

    Fp32 FP32 = new Fp32();
    Fp16 FP16 = new Fp16();
    Q8 Q8_0 = new Q8();
    Kivi KIVI_2 = new Kivi(2);
    Kivi KIVI_4 = new Kivi(4);

    /** The name {@link #parse} reads back. */
    String name();

    /** One line for logs and reports: layout, windows and bits per element for a model of this head_dim. */
    String describe(int headDim);

    /**
     * Average bits per stored element (keys and values alike) in the quantized part of the cache, scales and
     * deterministic zero points included, windows and the data-dependent zero points of hybrid groups excluded.
     * {@link CapacityPlanner#bitsPerElement} gives the figure for a sequence length, windows included.
     *
     * @throws IllegalArgumentException when the mode cannot serve this head_dim
     */
    double bitsPerElement(int headDim);

    /** Every named mode, in report order. */
    static List<KvMode> all() {
        return List.of(FP32, FP16, Q8_0, KIVI_2, KIVI_4,
                InnerqConfig.BASE, InnerqConfig.SMALL, InnerqConfig.HYBRID, InnerqConfig.FOUR);
    }

    /** The mode named {@code text}: a name from {@link #all()}, {@code kivi-<bits>}, or an {@code innerq:} string. */
    static KvMode parse(String text) {
        String s = text.strip().toLowerCase(Locale.ROOT);
        if (s.startsWith(InnerqConfig.PREFIX)) {
            return InnerqConfig.parse(s);
        }
        for (KvMode m : all()) {
            if (m.name().equals(s)) {
                return m;
            }
        }
        if (s.matches("kivi-\\d")) {
            return new Kivi(s.charAt(5) - '0');
        }
        throw new IllegalArgumentException(("unknown KV cache mode '%s': use one of %s, or a custom InnerQ configuration "
                + "such as innerq:k3,v2h,g32,s32,r96,norm").formatted(text,
                String.join(", ", all().stream().map(KvMode::name).toList())));
    }

    /** Keys and values in fp32: the reference every other mode approximates. */
    record Fp32() implements KvMode {
        @Override
        public String name() {
            return "fp32";
        }

        @Override
        public String describe(int headDim) {
            return "fp32: keys and values in fp32 (32 bits/element)";
        }

        @Override
        public double bitsPerElement(int headDim) {
            return 32;
        }

        @Override
        public String toString() {
            return name();
        }
    }

    /** Keys and values converted to fp16 on store. */
    record Fp16() implements KvMode {
        @Override
        public String name() {
            return "fp16";
        }

        @Override
        public String describe(int headDim) {
            return "fp16: keys and values converted to fp16 on store (16 bits/element)";
        }

        @Override
        public double bitsPerElement(int headDim) {
            return 16;
        }

        @Override
        public String toString() {
            return name();
        }
    }

    /**
     * llama.cpp's q8_0 for keys and values: per token, groups of 32 channels ({@code head_dim} channels when it is
     * smaller), {@code d = max|x| / 127} stored in fp16, {@code c = round(x / d)}, quantized on store.
     */
    record Q8() implements KvMode {
        /** Channels per group: 32, or head_dim below 32 (one group per head). */
        public static int group(int headDim) {
            return Groups.channels(32, headDim, "q8_0");
        }

        @Override
        public String name() {
            return "q8_0";
        }

        @Override
        public String describe(int headDim) {
            int g = group(headDim);
            return ("q8_0: llama.cpp q8_0, per token over groups of %d channels%s, 8-bit symmetric (d = max|x|/127), "
                    + "fp16 scale, quantized on store (%.2f bits/element)")
                    .formatted(g, g < 32 ? " (head_dim %d < 32: one group per head)".formatted(headDim) : "",
                            bitsPerElement(headDim));
        }

        @Override
        public double bitsPerElement(int headDim) {
            return 8 + 16.0 / group(headDim);
        }

        @Override
        public String toString() {
            return name();
        }
    }

    /**
     * KIVI (Liu et al., 2024), asymmetric b-bit: keys per channel over {@link #GROUP} tokens, values per token over
     * {@link #GROUP} channels (head_dim when smaller), fp16 scale and zero point per group; the {@link #RESIDUAL}
     * most recent tokens in fp32. Keys are quantized {@link #RESIDUAL} at a time when that many have accumulated;
     * the oldest value is quantized each step once more than {@link #RESIDUAL} are held.
     */
    record Kivi(int bits) implements KvMode {
        /** Tokens per key group; channels per value group. */
        public static final int GROUP = 32;
        /** Full-precision recent tokens. */
        public static final int RESIDUAL = 128;

        public Kivi {
            if (!BitPacking.supports(bits)) {
                throw new IllegalArgumentException("KIVI needs 2, 3, 4 or 8 bits, got " + bits);
            }
        }

        /** Channels per value group: 32, or head_dim below 32. */
        public static int valueGroup(int headDim) {
            return Groups.channels(GROUP, headDim, "KIVI");
        }

        @Override
        public String name() {
            return "kivi-" + bits;
        }

        @Override
        public String describe(int headDim) {
            int gv = valueGroup(headDim);
            return ("%s: asymmetric %d-bit; K per channel over %d tokens, V per token over %d channels%s; fp16 scale "
                    + "and zero point per group; %d most recent tokens in fp32, keys quantized %d at a time; exact "
                    + "prefill; %.2f bits/element outside the residual")
                    .formatted(name(), bits, GROUP, gv, gv < GROUP ? " (head_dim %d)".formatted(headDim) : "",
                            RESIDUAL, RESIDUAL, bitsPerElement(headDim));
        }

        @Override
        public double bitsPerElement(int headDim) {
            double k = (BitPacking.words(bits, GROUP) * 32.0 + 32) / GROUP;
            int gv = valueGroup(headDim);
            double v = (BitPacking.words(bits, gv) * 32.0 + 32) / gv;
            return (k + v) / 2;
        }

        @Override
        public String toString() {
            return name();
        }
    }
}
