package io.innerq.model;

import io.innerq.port.out.KvCache;
import io.innerq.port.out.KvCachePort;
import io.innerq.port.out.MatVecPort;
import io.innerq.tensor.ScalarKernels;

import java.util.function.IntConsumer;

/**
 * Many tokens through the weights at once, of one sequence (a prompt) or of several (a batched step): each weight
 * matrix is read once for all of them ({@link MatVecPort#matMul}); attention runs token by token, each in its own
 * sequence's cache right after its store. A sequence's tokens must therefore be consecutive and in position order.
 * The operations per token are {@link LlamaForward#step}'s, so with products that equal {@code matVec} bit for bit a
 * token's results do not depend on the tokens it ran with. Each sequence's attention is one task of
 * {@link KvCachePort#attendApart}, so sequences may attend on several threads at once. Buffers are allocated once;
 * not thread-safe.
 */
final class BatchForward {

    private final LlamaConfig c;
    private final LlamaWeights w;
    private final MatVecPort ops;
    private final KvCachePort cachePort; // runs the attention tasks; null: in order on the caller
    private final Rope rope;
    private final int maxTokens;

    private final float[][] x;       // [maxTokens][dim]      residual stream
    private final float[][] xb;      // [maxTokens][dim]      normed input / sub-layer output
    private final float[][] q;       // [maxTokens][heads*headDim]
    private final float[][] k;       // [maxTokens][kvHeads*headDim]
    private final float[][] v;       // [maxTokens][kvHeads*headDim]
    private final float[][] att;     // [maxTokens][heads*headDim] attention output
    private final float[][] hb;      // [maxTokens][ffn]      gate
    private final float[][] hb2;     // [maxTokens][ffn]      up
    private final float[][] logits;  // [maxTokens][vocab]    rows made on first use
    private final KvCache[] caches;  // [maxTokens] the cache of each token
    private final int[] positions;   // [maxTokens] the position of each token
    private final int[] runs;        // [maxTokens + 1] first token of each run of one cache's tokens, then the end
    private final Attention attention = new Attention();

    BatchForward(LlamaConfig c, LlamaWeights w, MatVecPort ops, KvCachePort cachePort, Rope rope, int maxTokens) {
        if (maxTokens < 1) {
            throw new IllegalArgumentException("a batch needs room for at least 1 token, got " + maxTokens);
        }
        this.c = c;
        this.w = w;
        this.ops = ops;
        this.cachePort = cachePort;
        this.rope = rope;
        this.maxTokens = maxTokens;
        x = new float[maxTokens][c.dim()];
        xb = new float[maxTokens][c.dim()];
        q = new float[maxTokens][c.qDim()];
        k = new float[maxTokens][c.kvDim()];
        v = new float[maxTokens][c.kvDim()];
        att = new float[maxTokens][c.qDim()];
        hb = new float[maxTokens][c.ffnDim()];
        hb2 = new float[maxTokens][c.ffnDim()];
        logits = new float[maxTokens][];
        caches = new KvCache[maxTokens];
        positions = new int[maxTokens];
        runs = new int[maxTokens + 1];
    }

    int maxTokens() {
        return maxTokens;
    }

    /** Sets token {@code i} of the next {@link #layers} call: its id, its position and the cache it goes to. */
    void set(int i, KvCache cache, int token, int position) {
        ScalarKernels.dequantizeRow(w.tokenEmbedding(), token, x[i], 0);
        caches[i] = cache;
        positions[i] = position;
    }

    /** Runs tokens {@code 0 .. n - 1} through every layer, storing their keys and values in their caches. */
    void layers(int n) {
        int count = 0;
        for (int i = 0; i < n; i++) {
            if (i == 0 || caches[i] != caches[i - 1]) {
                runs[count++] = i;
            }
        }
        runs[count] = n;
        for (int l = 0; l < c.layers(); l++) {
            for (int i = 0; i < n; i++) {
                LlamaForward.rmsNorm(xb[i], x[i], w.attnNorm()[l], c.rmsNormEps());
            }
            ops.matMul(w.wq()[l], xb, q, n);
            ops.matMul(w.wk()[l], xb, k, n);
            ops.matMul(w.wv()[l], xb, v, n);
            for (int i = 0; i < n; i++) {
                rope.apply(q[i], c.heads(), c.headDim(), positions[i]);
                rope.apply(k[i], c.kvHeads(), c.headDim(), positions[i]);
            }
            attention.layer = l;
            if (cachePort == null) {
                for (int run = 0; run < count; run++) {
                    attention.accept(run);
                }
            } else {
                cachePort.attendApart(count, attention);
            }
            ops.matMul(w.wo()[l], att, xb, n);
            for (int i = 0; i < n; i++) {
                LlamaForward.add(x[i], xb[i]);
                LlamaForward.rmsNorm(xb[i], x[i], w.ffnNorm()[l], c.rmsNormEps());
            }
            ops.matMul(w.wGate()[l], xb, hb, n);
            ops.matMul(w.wUp()[l], xb, hb2, n);
            for (int i = 0; i < n; i++) {
                LlamaForward.swiglu(hb[i], hb2[i]);
            }
            ops.matMul(w.wDown()[l], hb, xb, n);
            for (int i = 0; i < n; i++) {
                LlamaForward.add(x[i], xb[i]);
            }
        }
        for (int i = 0; i < n; i++) {
            caches[i] = null; // hold no cache past the call
        }
    }

    /** One run of one cache's tokens: causal, each token attends right after it is stored. */
    private final class Attention implements IntConsumer {
        int layer;

        @Override
        public void accept(int run) {
            for (int i = runs[run]; i < runs[run + 1]; i++) {
                caches[i].store(layer, positions[i], k[i], v[i]);
                caches[i].attend(layer, positions[i], q[i], att[i]);
            }
        }
    }

    /**
     * The logits of tokens {@code rows[0 .. n)} of the last {@link #layers} call, in one product.
     *
     * @return row {@code j} for token {@code rows[j]} ({@code [n][vocab]}, overwritten by the next call)
     */
    float[][] logits(int[] rows, int n) {
        for (int j = 0; j < n; j++) {
            LlamaForward.rmsNorm(xb[j], x[rows[j]], w.outputNorm(), c.rmsNormEps());
            if (logits[j] == null) {
                logits[j] = new float[c.vocabularySize()];
            }
        }
        ops.matMul(w.output(), xb, logits, n);
        return logits;
    }
}
