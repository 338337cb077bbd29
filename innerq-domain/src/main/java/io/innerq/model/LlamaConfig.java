package io.innerq.model;

import io.innerq.gguf.GgufFile;
import io.innerq.gguf.GgufFormatException;
import io.innerq.gguf.GgufTensorInfo;

import java.util.Arrays;
import java.util.Map;
import java.util.Optional;

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

    /**
     * The longest context a model may declare: 2^24 tokens. RoPE takes a position as a float, which is exact up to
     * 2^24; beyond it neighbouring positions would rotate alike.
     */
    public static final int MAX_CONTEXT = 1 << 24;

    public LlamaConfig {
        if (dim <= 0 || layers <= 0 || heads <= 0 || kvHeads <= 0 || headDim <= 0 || ffnDim <= 0
                || vocabularySize <= 0 || contextLength <= 0) {
            throw new IllegalArgumentException("model dimensions must be positive: " + this);
        }
        if (heads % kvHeads != 0) {
            throw new IllegalArgumentException(
                    "attention heads (%d) must be a multiple of KV heads (%d)".formatted(heads, kvHeads));
        }
        if ((long) heads * headDim > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("heads x head_dim = %d x %d does not fit an int".formatted(heads, headDim));
        }
        if (ropeDimensions <= 0 || ropeDimensions > headDim || ropeDimensions % 2 != 0) {
            throw new IllegalArgumentException(
                    "RoPE dimensions %d must be even and at most head_dim %d".formatted(ropeDimensions, headDim));
        }
        if (contextLength > MAX_CONTEXT) {
            throw new IllegalArgumentException("context %d is over the limit of %d".formatted(contextLength, MAX_CONTEXT));
        }
        if (!(rmsNormEps >= 0) || Float.isInfinite(rmsNormEps)) {
            throw new IllegalArgumentException("RMSNorm epsilon must be finite and >= 0, got " + rmsNormEps);
        }
        if (!(ropeFreqBase > 0) || Float.isInfinite(ropeFreqBase)) {
            throw new IllegalArgumentException("RoPE base must be finite and > 0, got " + ropeFreqBase);
        }
    }

    public int kvDim() {
        return kvHeads * headDim;
    }

    public int qDim() {
        return heads * headDim;
    }

    /**
     * Reads the configuration and checks it before anything is allocated: every dimension against the tensor shapes
     * that carry it ({@code embedding_length} and the vocabulary against {@code token_embd.weight}, the head counts
     * and sizes against layer 0's attention matrices, {@code feed_forward_length} against its FFN, {@code block_count}
     * against the layers the file holds), the context against {@link #MAX_CONTEXT}, and the hyper-parameters
     * (RoPE base, RMSNorm epsilon, RoPE scaling) finite and in range.
     *
     * @throws GgufFormatException naming the key or tensor, its value and what was expected
     */
    public static LlamaConfig from(GgufFile gguf) {
        var check = new ModelCheck(gguf);
        String arch = gguf.string("general.architecture").orElseThrow(
                () -> missing(gguf, "general.architecture"));
        if (!SUPPORTED.contains(arch)) {
            throw new GgufFormatException(gguf.source(), gguf.offsetOf("general.architecture"),
                    "metadata 'general.architecture'",
                    "'%s' is not supported; InnerQ runs Llama-architecture models (%s)".formatted(arch, SUPPORTED));
        }
        Map<String, GgufTensorInfo> tensors = gguf.tensorInfos();
        GgufTensorInfo embd = tensors.get("token_embd.weight");
        if (embd == null || embd.shape().length != 2) {
            throw new GgufFormatException(gguf.source(), embd == null ? 0 : gguf.tensorEntryOffset(embd.name()),
                    "tensor 'token_embd.weight'", "missing or not a matrix: this is not a complete Llama model");
        }
        long[] embdShape = embd.shape();
        if (embdShape[1] > Integer.MAX_VALUE) {
            throw check.tensor("token_embd.weight", "has %d rows (shape %s): a vocabulary of at most %d tokens expected"
                    .formatted(embdShape[1], Arrays.toString(embdShape), Integer.MAX_VALUE));
        }
        int vocab = (int) embdShape[1];

        String dimKey = arch + ".embedding_length";
        int dim = require(gguf, dimKey);
        if (dim != embdShape[0]) {
            throw check.metadata(dimKey, "is %d, but the rows of token_embd.weight (shape %s) have %d elements: expected %d"
                    .formatted(dim, Arrays.toString(embdShape), embdShape[0], embdShape[0]));
        }
        var weight = new WeightSize(embd);

        String layersKey = arch + ".block_count";
        int layers = require(gguf, layersKey);
        int[] found = layersInFile(tensors.keySet());
        int distinct = found[0];
        int highest = found[1];
        if (layers != distinct || layers != highest + 1) {
            String held = distinct == 0 ? "the file holds no layer tensors (blk.N.*)"
                    : distinct == highest + 1 ? "the file holds the tensors of %d layers (blk.0 to blk.%d)".formatted(distinct, highest)
                    : "the file holds tensors of %d layer numbers between 0 and %d, not 0 to %d in a row"
                            .formatted(distinct, highest, distinct - 1);
            String memory = layers > distinct && distinct > 0
                    ? "; %d layers like blk.0 would need %s of weights, the file has %s".formatted(layers,
                            ModelCheck.size(weight.layerBytes(tensors) * (double) layers),
                            ModelCheck.size(gguf.fileSize()))
                    : "";
            throw check.metadata(layersKey, "is %d, but %s: expected %s%s".formatted(layers, held,
                    distinct == highest + 1 && distinct > 0 ? String.valueOf(distinct) : "a layer count the tensors match",
                    memory));
        }

        String headsKey = arch + ".attention.head_count";
        String kvHeadsKey = arch + ".attention.head_count_kv";
        String keyLengthKey = arch + ".attention.key_length";
        String valueLengthKey = arch + ".attention.value_length";
        int heads = require(gguf, headsKey);
        int kvHeads = gguf.intValue(kvHeadsKey, 1).orElse(heads);
        Optional<Integer> keyLength = gguf.intValue(keyLengthKey, 1);
        if (keyLength.isEmpty() && dim % heads != 0) {
            throw check.metadata(headsKey, ("is %d, which does not divide the embedding length %d, and %s is absent:"
                    + " expected a divisor of %d, or a key_length").formatted(heads, dim, keyLengthKey, dim));
        }
        int headDim = keyLength.orElse(dim / heads);
        Optional<Integer> valueLength = gguf.intValue(valueLengthKey, 1);
        if (valueLength.isPresent() && valueLength.get() != headDim) {
            throw check.metadata(valueLengthKey, ("is %d, but the key length (head_dim) is %d: expected %d (InnerQ runs"
                    + " models whose keys and values have one head size)").formatted(valueLength.get(), headDim, headDim));
        }
        if (kvHeads > heads || heads % kvHeads != 0) {
            throw check.metadata(kvHeadsKey, "is %d, but head_count is %d: expected a divisor of %d"
                    .formatted(kvHeads, heads, heads));
        }
        String headSize = keyLength.isPresent() ? "key_length %d".formatted(headDim)
                : "head_dim %d (%d / %d)".formatted(headDim, dim, heads);
        requireRows(check, tensors, "blk.0.attn_q.weight", (long) heads * headDim, keyLength.isPresent() ? keyLengthKey : headsKey,
                "head_count %d x %s".formatted(heads, headSize), weight, gguf);
        requireRows(check, tensors, "blk.0.attn_k.weight", (long) kvHeads * headDim, kvHeadsKey,
                "head_count_kv %d x %s".formatted(kvHeads, headSize), weight, gguf);

        String ffnKey = arch + ".feed_forward_length";
        int ffn = require(gguf, ffnKey);
        requireRows(check, tensors, "blk.0.ffn_gate.weight", ffn, ffnKey, "feed_forward_length", weight, gguf);

        String contextKey = arch + ".context_length";
        int context = require(gguf, contextKey);
        if (context > MAX_CONTEXT) {
            throw check.metadata(contextKey, ("is %d: expected at most %d (2^24) tokens; RoPE positions are exact in"
                    + " float only that far").formatted(context, MAX_CONTEXT));
        }
        String ropeDimsKey = arch + ".rope.dimension_count";
        int ropeDims = gguf.intValue(ropeDimsKey, 1).orElse(headDim);
        if (ropeDims > headDim || ropeDims % 2 != 0) {
            throw check.metadata(ropeDimsKey, "is %d: expected an even number of at most head_dim %d"
                    .formatted(ropeDims, headDim));
        }
        String baseKey = arch + ".rope.freq_base";
        float freqBase = gguf.number(baseKey).orElse(10000.0).floatValue();
        if (!(freqBase > 0) || Float.isInfinite(freqBase)) {
            throw check.metadata(baseKey, "is %s: expected a finite number above 0 (10000 for Llama 2, 500000 for Llama 3)"
                    .formatted(freqBase));
        }
        String epsKey = arch + ".attention.layer_norm_rms_epsilon";
        float eps = gguf.number(epsKey).orElse(1e-5).floatValue();
        if (!(eps >= 0) || Float.isInfinite(eps)) {
            throw check.metadata(epsKey, "is %s: expected a finite number of at least 0 (usually 1e-5 or 1e-6)"
                    .formatted(eps));
        }
        RopeScaling scaling = RopeScaling.from(gguf, arch, check);
        try {
            return new LlamaConfig(arch, dim, layers, heads, kvHeads, headDim, ffn, vocab, context, eps, freqBase,
                    ropeDims, scaling);
        } catch (IllegalArgumentException e) { // every case is refused above with its key; this is a safety net
            throw new GgufFormatException(gguf.source(), 0, "model metadata", e.getMessage());
        }
    }

    /**
     * The rows {@code tensor} must have for the metadata ({@code expected}); when it has others, a refusal of
     * {@code key} that shows both and, when the metadata implies more weights than the file holds, how much.
     * A missing tensor or one of another rank is left to {@link LlamaWeights}, which names it.
     */
    private static void requireRows(ModelCheck check, Map<String, GgufTensorInfo> tensors, String tensor, long expected,
                                    String key, String what, WeightSize weight, GgufFile gguf) {
        GgufTensorInfo t = tensors.get(tensor);
        if (t == null || t.shape().length != 2 || t.shape()[1] == expected) {
            return;
        }
        double needed = (double) expected * t.shape()[0] * weight.bytesPerElement();
        String memory = needed > gguf.fileSize()
                ? "; a matrix that size would need %s, the file has %s".formatted(ModelCheck.size(needed),
                        ModelCheck.size(gguf.fileSize()))
                : "";
        throw check.metadata(key, "gives %s = %d rows for %s, but it has %d (shape %s): expected the metadata to imply %d%s"
                .formatted(what, expected, tensor, t.shape()[1], Arrays.toString(t.shape()), t.shape()[1], memory));
    }

    /** The number of distinct layer numbers N of tensors named {@code blk.N.*}, and the highest (-1 for none). */
    private static int[] layersInFile(java.util.Collection<String> names) {
        var numbers = new java.util.HashSet<Integer>();
        int highest = -1;
        for (String name : names) {
            if (!name.startsWith("blk.")) {
                continue;
            }
            int end = name.indexOf('.', 4);
            if (end < 5 || end > 13) { // 1 to 9 digits
                continue;
            }
            int n = 0;
            boolean digits = true;
            for (int i = 4; i < end && digits; i++) {
                char c = name.charAt(i);
                digits = c >= '0' && c <= '9';
                n = n * 10 + (c - '0');
            }
            if (digits) {
                numbers.add(n);
                highest = Math.max(highest, n);
            }
        }
        return new int[] {numbers.size(), highest};
    }

    /** Bytes per weight of the embedding's type, for how much memory a dimension implies. */
    private record WeightSize(GgufTensorInfo embedding) {
        double bytesPerElement() {
            return embedding.byteSize() > 0 ? (double) embedding.byteSize() / embedding.elements() : 4;
        }

        /** The bytes of layer 0's tensors. */
        double layerBytes(Map<String, GgufTensorInfo> tensors) {
            double bytes = 0;
            for (GgufTensorInfo t : tensors.values()) {
                if (t.name().startsWith("blk.0.")) {
                    bytes += t.byteSize() > 0 ? t.byteSize() : t.elements() * bytesPerElement();
                }
            }
            return bytes;
        }
    }

    private static int require(GgufFile gguf, String key) {
        return gguf.intValue(key, 1).orElseThrow(() -> missing(gguf, key));
    }

    private static GgufFormatException missing(GgufFile gguf, String key) {
        return new GgufFormatException(gguf.source(), 0, "metadata '" + key + "'",
                "missing: the file lacks a required model parameter");
    }
}
