package io.innerq.model;

import io.innerq.gguf.GgufFile;
import io.innerq.gguf.GgufFormatException;

/**
 * Hyper-parameters of a Llama-architecture model, read from GGUF metadata ({@code <arch>.*} keys).
 *
 * @param ropeDimensions leading dimensions of each head that RoPE rotates (usually {@code headDim})
 * @param ropeScaling    how positions are scaled for RoPE
 */
public record LlamaConfig(
        String architecture,
        int dim,
        int layers,
        int heads,
        int kvHeads,
        int headDim,
        int ffnDim,
        int vocabularySize,
        int contextLength,
        float rmsNormEps,
        float ropeFreqBase,
        int ropeDimensions,
        RopeScaling ropeScaling) {

    /** Architectures that share the Llama graph (GQA, RMSNorm, RoPE, SwiGLU). */
    static final java.util.Set<String> SUPPORTED = java.util.Set.of("llama", "mistral");

    public LlamaConfig {
        if (dim <= 0 || layers <= 0 || heads <= 0 || kvHeads <= 0 || headDim <= 0 || ffnDim <= 0
                || vocabularySize <= 0 || contextLength <= 0) {
            throw new IllegalArgumentException("model dimensions must be positive: " + this);
        }
        if (heads % kvHeads != 0) {
            throw new IllegalArgumentException(
                    "attention heads (%d) must be a multiple of KV heads (%d)".formatted(heads, kvHeads));
        }
        if (ropeDimensions <= 0 || ropeDimensions > headDim || ropeDimensions % 2 != 0) {
            throw new IllegalArgumentException(
                    "RoPE dimensions %d must be even and at most head_dim %d".formatted(ropeDimensions, headDim));
        }
    }

    public int kvDim() {
        return kvHeads * headDim;
    }

    public int qDim() {
        return heads * headDim;
    }

    /** Reads the configuration; {@code vocabularySize} comes from the token embedding's shape. */
    public static LlamaConfig from(GgufFile gguf) {
        String arch = gguf.string("general.architecture").orElseThrow(
                () -> missing(gguf, "general.architecture"));
        if (!SUPPORTED.contains(arch)) {
            throw new GgufFormatException(gguf.source(), 0, "metadata 'general.architecture'",
                    "'%s' is not supported; InnerQ runs Llama-architecture models (%s)".formatted(arch, SUPPORTED));
        }
        int dim = require(gguf, arch + ".embedding_length");
        int heads = require(gguf, arch + ".attention.head_count");
        int kvHeads = gguf.intValue(arch + ".attention.head_count_kv", 1).orElse(heads);
        int headDim = gguf.intValue(arch + ".attention.key_length", 1).orElse(dim / heads);
        var embd = gguf.tensorInfos().get("token_embd.weight");
        if (embd == null || embd.shape().length != 2) {
            throw new GgufFormatException(gguf.source(), 0, "tensor 'token_embd.weight'",
                    "missing or not a matrix: this is not a complete Llama model");
        }
        int vocab = Math.toIntExact(embd.shape()[1]);
        float freqBase = gguf.number(arch + ".rope.freq_base").orElse(10000.0).floatValue();
        return new LlamaConfig(
                arch,
                dim,
                require(gguf, arch + ".block_count"),
                heads,
                kvHeads,
                headDim,
                require(gguf, arch + ".feed_forward_length"),
                vocab,
                require(gguf, arch + ".context_length"),
                gguf.number(arch + ".attention.layer_norm_rms_epsilon").orElse(1e-5).floatValue(),
                freqBase,
                gguf.intValue(arch + ".rope.dimension_count", 2).orElse(headDim),
                RopeScaling.from(gguf, arch));
    }

    private static int require(GgufFile gguf, String key) {
        return gguf.intValue(key, 1).orElseThrow(() -> missing(gguf, key));
    }

    private static GgufFormatException missing(GgufFile gguf, String key) {
        return new GgufFormatException(gguf.source(), 0, "metadata '" + key + "'",
                "missing: the file lacks a required model parameter");
    }
}
