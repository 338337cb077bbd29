package io.innerq.model;

import io.innerq.gguf.GgufFile;
import io.innerq.gguf.GgufFormatException;
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
            throw new GgufFormatException(gguf.source(), 0, "tensor '" + name + "'",
                    "shape %s does not match the model's metadata, which implies [%d, %d]"
                            .formatted(Arrays.toString(shape), cols, rows));
        }
        return t;
    }

    private static float[] vector(GgufFile gguf, String name, int length) {
        Tensor t = gguf.requireTensor(name);
        if (t.elements() != length || t.shape().length != 1) {
            throw new GgufFormatException(gguf.source(), 0, "tensor '" + name + "'",
                    "shape %s does not match the model's metadata, which implies [%d]"
                            .formatted(Arrays.toString(t.shape()), length));
        }
        float[] out = new float[length];
        ScalarKernels.dequantizeRow(t, 0, out, 0);
        return out;
    }
}
