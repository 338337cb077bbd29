package io.innerq.model;

import io.innerq.gguf.GgufFile;
import io.innerq.gguf.GgufFormatException;
import io.innerq.gguf.GgufTensorInfo;
import io.innerq.tensor.GgmlType;
import io.innerq.tensor.ScalarKernels;
import io.innerq.tensor.Tensor;

import java.util.Arrays;

/**
 * The tensors of a Llama model, views into the mapped file. Norm weights are copied to float arrays (they are small
 * and read every token); matrices stay in their stored type.
 */
public record LlamaWeights(
        Tensor tokenEmbedding,   // [vocab][dim]
        float[][] attnNorm,      // [layer][dim]
        Tensor[] wq,             // [layer] [heads*headDim][dim]
        Tensor[] wk,             // [layer] [kvHeads*headDim][dim]
        Tensor[] wv,             // [layer] [kvHeads*headDim][dim]
        Tensor[] wo,             // [layer] [dim][heads*headDim]
        float[][] ffnNorm,       // [layer][dim]
        Tensor[] wGate,          // [layer] [ffn][dim]
        Tensor[] wUp,            // [layer] [ffn][dim]
        Tensor[] wDown,          // [layer] [dim][ffn]
        float[] outputNorm,      // [dim]
        Tensor output,           // [vocab][dim], the embedding itself when tied
        float[] ropeFreqFactors) // [ropeDims/2] or null
{

    /**
     * Maps the tensors of {@code c}'s shape and checks them: every shape as the configuration implies, and the norm
     * weights and RoPE frequency factors finite (the factors above 0 too). The matrices are not read; see
     * {@link #requireFinite}.
     *
     * @throws GgufFormatException naming the tensor, what it holds and what was expected
     */
    public static LlamaWeights load(GgufFile gguf, LlamaConfig c) {
        int n = c.layers();
        var attnNorm = new float[n][];
        var ffnNorm = new float[n][];
        Tensor[] wq = new Tensor[n], wk = new Tensor[n], wv = new Tensor[n], wo = new Tensor[n];
        Tensor[] gate = new Tensor[n], up = new Tensor[n], down = new Tensor[n];
        for (int l = 0; l < n; l++) {
            String p = "blk." + l + ".";
            attnNorm[l] = vector(gguf, p + "attn_norm.weight", c.dim());
            wq[l] = matrix(gguf, p + "attn_q.weight", c.qDim(), c.dim());
            wk[l] = matrix(gguf, p + "attn_k.weight", c.kvDim(), c.dim());
            wv[l] = matrix(gguf, p + "attn_v.weight", c.kvDim(), c.dim());
            wo[l] = matrix(gguf, p + "attn_output.weight", c.dim(), c.qDim());
            ffnNorm[l] = vector(gguf, p + "ffn_norm.weight", c.dim());
            gate[l] = matrix(gguf, p + "ffn_gate.weight", c.ffnDim(), c.dim());
            up[l] = matrix(gguf, p + "ffn_up.weight", c.ffnDim(), c.dim());
            down[l] = matrix(gguf, p + "ffn_down.weight", c.dim(), c.ffnDim());
        }
        Tensor embedding = matrix(gguf, "token_embd.weight", c.vocabularySize(), c.dim());
        Tensor output = gguf.tensorInfos().containsKey("output.weight")
                ? matrix(gguf, "output.weight", c.vocabularySize(), c.dim())
                : embedding;
        float[] freqs = gguf.tensorInfos().containsKey("rope_freqs.weight")
                ? vector(gguf, "rope_freqs.weight", c.ropeDimensions() / 2)
                : null;
        if (freqs != null) {
            for (int i = 0; i < freqs.length; i++) {
                if (!(freqs[i] > 0)) {
                    throw new ModelCheck(gguf).tensorData("rope_freqs.weight", elementOffset(gguf, "rope_freqs.weight", i),
                            "element %d is %s: expected a frequency factor above 0".formatted(i, freqs[i]));
                }
            }
        }
        return new LlamaWeights(embedding, attnNorm, wq, wk, wv, wo, ffnNorm, gate, up, down,
                vector(gguf, "output_norm.weight", c.dim()), output, freqs);
    }

    public boolean tiedOutput() {
        return output == tokenEmbedding;
    }

    private static Tensor matrix(GgufFile gguf, String name, int rows, int cols) {
        Tensor t = gguf.requireTensor(name);
        long[] shape = t.shape();
        if (shape.length != 2 || shape[0] != cols || shape[1] != rows) {
            throw new GgufFormatException(gguf.source(), gguf.tensorEntryOffset(name), "tensor '" + name + "'",
                    "shape %s does not match the model's metadata, which implies [%d, %d]"
                            .formatted(Arrays.toString(shape), cols, rows));
        }
        return t;
    }

    private static float[] vector(GgufFile gguf, String name, int length) {
        Tensor t = gguf.requireTensor(name);
        if (t.elements() != length || t.shape().length != 1) {
            throw new GgufFormatException(gguf.source(), gguf.tensorEntryOffset(name), "tensor '" + name + "'",
                    "shape %s does not match the model's metadata, which implies [%d]"
                            .formatted(Arrays.toString(t.shape()), length));
        }
        float[] out = new float[length];
        ScalarKernels.dequantizeRow(t, 0, out, 0);
        for (int i = 0; i < length; i++) {
            if (!Float.isFinite(out[i])) {
                throw new ModelCheck(gguf).tensorData(name, elementOffset(gguf, name, i),
                        "element %d is %s: expected a finite weight; the file is corrupt".formatted(i, out[i]));
            }
        }
        return out;
    }

    /** The byte of element {@code i} of a vector (its block's, for a block type), for error messages. */
    private static long elementOffset(GgufFile gguf, String name, int i) {
        GgufTensorInfo info = gguf.tensorInfos().get(name);
        GgmlType type = info.type();
        return info.offset() + (long) (i / type.blockSize()) * type.blockBytes();
    }

    /**
     * Reads every weight of every matrix (in parallel over rows) and fails at the first that is not finite. It reads
     * the whole file: seconds for a model of gigabytes.
     *
     * @throws GgufFormatException naming the tensor, the row and column, and the value
     */
    public void requireFinite(GgufFile gguf) {
        var matrices = new java.util.LinkedHashMap<String, Tensor>();
        matrices.put(tokenEmbedding.name(), tokenEmbedding);
        for (int l = 0; l < wq.length; l++) {
            for (Tensor t : new Tensor[] {wq[l], wk[l], wv[l], wo[l], wGate[l], wUp[l], wDown[l]}) {
                matrices.put(t.name(), t);
            }
        }
        matrices.put(output.name(), output);
        for (Tensor t : matrices.values()) {
            requireFinite(gguf, t);
        }
    }

    private static final int SCAN_ROWS = 64; // rows per parallel task

    private static void requireFinite(GgufFile gguf, Tensor t) {
        int rows = t.rows();
        int cols = t.cols();
        int tasks = (rows + SCAN_ROWS - 1) / SCAN_ROWS;
        java.util.stream.IntStream.range(0, tasks).parallel()
                .mapToObj(task -> {
                    float[] row = new float[cols];
                    for (int r = task * SCAN_ROWS, end = Math.min(rows, r + SCAN_ROWS); r < end; r++) {
                        ScalarKernels.dequantizeRow(t, r, row, 0);
                        for (int c = 0; c < cols; c++) {
                            if (!Float.isFinite(row[c])) {
                                return new long[] {r, c, Float.floatToRawIntBits(row[c])};
                            }
                        }
                    }
                    return null;
                })
                .filter(java.util.Objects::nonNull)
                .findFirst()
                .ifPresent(bad -> {
                    GgufTensorInfo info = gguf.tensorInfos().get(t.name());
                    long offset = info.offset() + bad[0] * t.rowBytes()
                            + bad[1] / t.type().blockSize() * t.type().blockBytes();
                    throw new ModelCheck(gguf).tensorData(t.name(), offset,
                            "row %d, column %d is %s: expected a finite weight; the file is corrupt"
                                    .formatted(bad[0], bad[1], Float.intBitsToFloat((int) bad[2])));
                });
    }
}
