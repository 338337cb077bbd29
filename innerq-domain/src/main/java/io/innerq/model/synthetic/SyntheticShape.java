package io.innerq.model.synthetic;

import io.innerq.model.LlamaConfig;
import io.innerq.model.RopeScaling;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * The shape of a synthetic Llama model: what {@link LlamaConfig} will read back, plus whether the output head is the
 * embedding and which kind of tokenizer it embeds. A {@link RopeScaling.Llama3} scaling is written as Llama 3.1
 * GGUFs write it, as a {@code rope_freqs.weight} tensor of frequency factors.
 *
 * <p>Presets: {@code llama3-8b} (Llama 3.1 8B: 32 layers, GQA 32/8, 131072 context, byte-level BPE, untied),
 * {@code storybooks-like} (the shape of storybooks-18M-hd128, SentencePiece, untied) and {@code tiny} (for tests,
 * byte-level BPE, tied). {@link #parse} takes a preset name with changes, e.g. {@code llama3-8b:layers=4,context=8192}.
 */
public record SyntheticShape(
        String name,
        int dim,
        int layers,
        int heads,
        int kvHeads,
        int headDim,
        int ffnDim,
        int vocabularySize,
        int contextLength,
        float ropeFreqBase,
        float rmsNormEps,
        RopeScaling ropeScaling,
        boolean tiedOutput,
        VocabularyStyle vocabulary) {

    public static final SyntheticShape LLAMA3_8B = new SyntheticShape("llama3-8b", 4096, 32, 32, 8, 128, 14336,
            128256, 131072, 500000f, 1e-5f, new RopeScaling.Llama3(8f, 1f, 4f, 8192), false, VocabularyStyle.BPE);

    public static final SyntheticShape STORYBOOKS_LIKE = new SyntheticShape("storybooks-like", 512, 6, 4, 2, 128,
            1376, 512, 1024, 10000f, 1e-5f, new RopeScaling.None(), false, VocabularyStyle.SENTENCEPIECE);

    public static final SyntheticShape TINY = new SyntheticShape("tiny", 64, 2, 4, 2, 16, 128, 512, 256, 10000f,
            1e-5f, new RopeScaling.None(), true, VocabularyStyle.BPE);

    /** The presets by name. */
    public static final Map<String, SyntheticShape> PRESETS = presets(LLAMA3_8B, STORYBOOKS_LIKE, TINY);

    /** The most layers a synthetic model has. */
    public static final int MAX_LAYERS = 4096;

    /** The most tokens of a synthetic vocabulary (its strings are built in memory). */
    public static final int MAX_VOCABULARY = 1 << 21;

    /** The most parameters a synthetic model has: 2^40. */
    public static final long MAX_PARAMETERS = 1L << 40;

    /** The keys {@link #parse} and {@link #with} take. */
    public static final String KEYS = "dim, layers, heads, kv-heads, head-dim, ffn, vocab, context, rope-base, eps, "
            + "tied (true|false), tokenizer (bpe|spm)";

    public SyntheticShape {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(ropeScaling, "ropeScaling");
        Objects.requireNonNull(vocabulary, "vocabulary");
        if (dim <= 0 || layers <= 0 || heads <= 0 || kvHeads <= 0 || headDim <= 0 || ffnDim <= 0
                || contextLength <= 0) {
            throw new IllegalArgumentException("shape '%s': dimensions must be positive".formatted(name));
        }
        if (heads % kvHeads != 0) {
            throw new IllegalArgumentException("shape '%s': heads (%d) must be a multiple of kv-heads (%d)"
                    .formatted(name, heads, kvHeads));
        }
        if (layers > MAX_LAYERS || vocabularySize > MAX_VOCABULARY || contextLength > LlamaConfig.MAX_CONTEXT) {
            throw new IllegalArgumentException(("shape '%s': layers must be at most %d, vocab at most %d and context at"
                    + " most %d, got %d, %d and %d").formatted(name, MAX_LAYERS, MAX_VOCABULARY,
                    LlamaConfig.MAX_CONTEXT, layers, vocabularySize, contextLength));
        }
        if ((long) heads * headDim > Integer.MAX_VALUE || (long) kvHeads * headDim > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("shape '%s': heads x head-dim = %d x %d is too large"
                    .formatted(name, heads, headDim));
        }
        double weights = parameters(dim, layers, (long) heads * headDim, (long) kvHeads * headDim, ffnDim,
                vocabularySize, tiedOutput);
        if (weights > MAX_PARAMETERS) {
            throw new IllegalArgumentException("shape '%s' has %.3g parameters: at most 2^40 (%d) are written"
                    .formatted(name, weights, MAX_PARAMETERS));
        }
        if (headDim % 2 != 0) {
            throw new IllegalArgumentException("shape '%s': head-dim %d must be even (RoPE rotates pairs)"
                    .formatted(name, headDim));
        }
        if (!(ropeFreqBase > 1) || !(rmsNormEps > 0)) {
            throw new IllegalArgumentException("shape '%s': rope-base must exceed 1 and eps must be positive"
                    .formatted(name));
        }
        int min = SyntheticVocabulary.minimumSize(vocabulary);
        if (vocabularySize < min) {
            throw new IllegalArgumentException("shape '%s': a %s vocabulary needs at least %d tokens, got %d"
                    .formatted(name, vocabulary.shortName(), min, vocabularySize));
        }
    }

    /** What {@link LlamaConfig#from} reads from a file of this shape. */
    public LlamaConfig config() {
        return new LlamaConfig("llama", dim, layers, heads, kvHeads, headDim, ffnDim, vocabularySize, contextLength,
                rmsNormEps, ropeFreqBase, headDim, ropeScaling);
    }

    public int qDim() {
        return heads * headDim;
    }

    public int kvDim() {
        return kvHeads * headDim;
    }

    /** Weights in all matrices, embedding and output head included. */
    public long parameters() {
        return (long) parameters(dim, layers, qDim(), kvDim(), ffnDim, vocabularySize, tiedOutput);
    }

    /** The parameter count in a double, which no shape overflows. */
    private static double parameters(double dim, double layers, double qDim, double kvDim, double ffn, double vocab,
                                     boolean tied) {
        double perLayer = 2 * dim * qDim + 2 * dim * kvDim + 3 * dim * ffn + 2 * dim;
        return layers * perLayer + vocab * dim * (tied ? 1 : 2) + dim;
    }

    /** The same shape with another context length. */
    public SyntheticShape withContextLength(int context) {
        return with("context", Integer.toString(context));
    }

    /** The same shape with one dimension or setting changed; {@code key} is one of {@link #KEYS}. */
    public SyntheticShape with(String key, String value) {
        var b = new Changes(this);
        switch (key) {
            case "dim" -> b.dim = positive(key, value);
            case "layers" -> b.layers = positive(key, value);
            case "heads" -> b.heads = positive(key, value);
            case "kv-heads" -> b.kvHeads = positive(key, value);
            case "head-dim" -> b.headDim = positive(key, value);
            case "ffn" -> b.ffnDim = positive(key, value);
            case "vocab" -> b.vocabularySize = positive(key, value);
            case "context" -> b.contextLength = positive(key, value);
            case "rope-base" -> b.ropeFreqBase = number(key, value);
            case "eps" -> b.rmsNormEps = number(key, value);
            case "tied" -> b.tiedOutput = bool(key, value);
            case "tokenizer" -> b.vocabulary = VocabularyStyle.parse(value);
            default -> throw new IllegalArgumentException("unknown shape key '%s': the keys are %s".formatted(key, KEYS));
        }
        return b.build(name + (name.contains(":") ? "," : ":") + key + "=" + value);
    }

    /** A shape's fields, to change one. */
    private static final class Changes {
        int dim, layers, heads, kvHeads, headDim, ffnDim, vocabularySize, contextLength;
        float ropeFreqBase, rmsNormEps;
        RopeScaling ropeScaling;
        boolean tiedOutput;
        VocabularyStyle vocabulary;

        Changes(SyntheticShape s) {
            dim = s.dim;
            layers = s.layers;
            heads = s.heads;
            kvHeads = s.kvHeads;
            headDim = s.headDim;
            ffnDim = s.ffnDim;
            vocabularySize = s.vocabularySize;
            contextLength = s.contextLength;
            ropeFreqBase = s.ropeFreqBase;
            rmsNormEps = s.rmsNormEps;
            ropeScaling = s.ropeScaling;
            tiedOutput = s.tiedOutput;
            vocabulary = s.vocabulary;
        }

        SyntheticShape build(String name) {
            return new SyntheticShape(name, dim, layers, heads, kvHeads, headDim, ffnDim, vocabularySize,
                    contextLength, ropeFreqBase, rmsNormEps, ropeScaling, tiedOutput, vocabulary);
        }
    }

    /**
     * A preset by name, optionally followed by changes: {@code tiny}, {@code llama3-8b:layers=4,context=8192}.
     *
     * @throws IllegalArgumentException naming the presets or keys when {@code spec} uses an unknown one
     */
    public static SyntheticShape parse(String spec) {
        int colon = spec.indexOf(':');
        String presetName = (colon < 0 ? spec : spec.substring(0, colon)).trim().toLowerCase(Locale.ROOT);
        SyntheticShape shape = PRESETS.get(presetName);
        if (shape == null) {
            throw new IllegalArgumentException(("unknown shape '%s': the presets are %s (change one with :key=value,...,"
                    + " e.g. llama3-8b:layers=4; the keys are %s)").formatted(presetName,
                    String.join(", ", PRESETS.keySet()), KEYS));
        }
        if (colon >= 0) {
            for (String change : spec.substring(colon + 1).split(",")) {
                int eq = change.indexOf('=');
                if (eq <= 0) {
                    throw new IllegalArgumentException("'%s' in shape '%s' is not key=value (the keys are %s)"
                            .formatted(change, spec, KEYS));
                }
                shape = shape.with(change.substring(0, eq).trim(), change.substring(eq + 1).trim());
            }
        }
        return shape;
    }

    private static Map<String, SyntheticShape> presets(SyntheticShape... shapes) {
        var map = new LinkedHashMap<String, SyntheticShape>();
        for (SyntheticShape s : shapes) {
            map.put(s.name(), s);
        }
        return java.util.Collections.unmodifiableMap(map);
    }

    private static int positive(String key, String value) {
        try {
            int v = Integer.parseInt(value);
            if (v > 0) {
                return v;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("shape key %s must be a positive whole number, got '%s'".formatted(key, value));
    }

    private static float number(String key, String value) {
        try {
            return Float.parseFloat(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("shape key %s must be a number, got '%s'".formatted(key, value));
        }
    }

    private static boolean bool(String key, String value) {
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "true", "yes", "1" -> true;
            case "false", "no", "0" -> false;
            default -> throw new IllegalArgumentException("shape key %s must be true or false, got '%s'"
                    .formatted(key, value));
        };
    }
}
