package io.innerq.model;

import io.innerq.port.out.KvCache;
import io.innerq.port.out.MatVecPort;
import io.innerq.tensor.ScalarKernels;

/**
 * One sequence's forward pass, token by token, over a {@link KvCache}. Holds the activation buffers, allocated once:
 * a token step allocates nothing. Not thread-safe: one per sequence.
 */
public final class LlamaForward {

    private final LlamaConfig c;
    private final LlamaWeights w;
    private final MatVecPort ops;
    private final Rope rope;

    private final float[] x;      // [dim]      residual stream
    private final float[] xb;     // [dim]      normed input / sub-layer output
    private final float[] q;      // [heads*headDim]
    private final float[] k;      // [kvHeads*headDim]
    private final float[] v;      // [kvHeads*headDim]
    private final float[] att;    // [heads*headDim] attention output
    private final float[] hb;     // [ffn]      gate
    private final float[] hb2;    // [ffn]      up
    private final float[] logits; // [vocab]

    /** Tokens a prompt runs through the weights at once. */
    public static final int PREFILL_BATCH = 32;
    private Batch batch; // prompt buffers, allocated on the first prefill

    public LlamaForward(LlamaModel model, MatVecPort ops) {
        this.c = model.config();
        this.w = model.weights();
        this.ops = ops;
        this.rope = new Rope(c, w.ropeFreqFactors());
        x = new float[c.dim()];
        xb = new float[c.dim()];
        q = new float[c.qDim()];
        k = new float[c.kvDim()];
        v = new float[c.kvDim()];
        att = new float[c.qDim()];
        hb = new float[c.ffnDim()];
        hb2 = new float[c.ffnDim()];
        logits = new float[c.vocabularySize()];
    }

    /**
     * Runs {@code token} at {@code position}, storing its keys and values in {@code cache}.
     *
     * @param computeLogits false for prompt tokens whose next-token distribution is not needed
     * @return the logits buffer ({@code float[vocab]}, overwritten by the next call), or null
     */
    public float[] step(KvCache cache, int token, int position, boolean computeLogits) {
        ScalarKernels.dequantizeRow(w.tokenEmbedding(), token, x, 0);
        for (int l = 0; l < c.layers(); l++) {
            attention(cache, l, position);
            feedForward(l);
        }
        if (!computeLogits) {
            return null;
        }
        rmsNorm(xb, x, w.outputNorm(), c.rmsNormEps());
        ops.matVec(w.output(), xb, logits);
        return logits;
    }

    /**
     * Runs {@code count} prompt tokens at positions {@code start ..}, storing their keys and values: the
     * projections of up to {@link #PREFILL_BATCH} tokens share one pass over each weight matrix ({@link
     * MatVecPort#matMul}); attention runs token by token, each right after its own store.
     *
     * @return the last token's logits ({@code float[vocab]}, overwritten by the next call)
     */
    public float[] prefill(KvCache cache, int[] tokens, int start, int count) {
        if (batch == null) {
            batch = new Batch(c, PREFILL_BATCH);
        }
        int done = 0;
        while (done < count) {
            int n = Math.min(PREFILL_BATCH, count - done);
            prefillBatch(cache, tokens, start + done, n);
            done += n;
        }
        rmsNorm(xb, batch.x[lastIndex(count)], w.outputNorm(), c.rmsNormEps());
        ops.matVec(w.output(), xb, logits);
        return logits;
    }

    private static int lastIndex(int count) {
        int rest = count % PREFILL_BATCH;
        return (rest == 0 ? PREFILL_BATCH : rest) - 1;
    }

    private void prefillBatch(KvCache cache, int[] tokens, int start, int n) {
        Batch b = batch;
        for (int i = 0; i < n; i++) {
            ScalarKernels.dequantizeRow(w.tokenEmbedding(), tokens[start + i], b.x[i], 0);
        }
        for (int l = 0; l < c.layers(); l++) {
            for (int i = 0; i < n; i++) {
                rmsNorm(b.xb[i], b.x[i], w.attnNorm()[l], c.rmsNormEps());
            }
            ops.matMul(w.wq()[l], b.xb, b.q, n);
            ops.matMul(w.wk()[l], b.xb, b.k, n);
            ops.matMul(w.wv()[l], b.xb, b.v, n);
            for (int i = 0; i < n; i++) { // causal: each token attends right after it is stored
                int position = start + i;
                rope.apply(b.q[i], c.heads(), c.headDim(), position);
                rope.apply(b.k[i], c.kvHeads(), c.headDim(), position);
                cache.store(l, position, b.k[i], b.v[i]);
                cache.attend(l, position, b.q[i], b.att[i]);
            }
            ops.matMul(w.wo()[l], b.att, b.xb, n);
            for (int i = 0; i < n; i++) {
                add(b.x[i], b.xb[i]);
                rmsNorm(b.xb[i], b.x[i], w.ffnNorm()[l], c.rmsNormEps());
            }
            ops.matMul(w.wGate()[l], b.xb, b.hb, n);
            ops.matMul(w.wUp()[l], b.xb, b.hb2, n);
            for (int i = 0; i < n; i++) {
                swiglu(b.hb[i], b.hb2[i]);
            }
            ops.matMul(w.wDown()[l], b.hb, b.xb, n);
            for (int i = 0; i < n; i++) {
                add(b.x[i], b.xb[i]);
            }
        }
    }

    /** Activations of a prompt batch: the buffers of one token, {@code [batch][...]}. */
    private static final class Batch {
        final float[][] x;    // [batch][dim]
        final float[][] xb;   // [batch][dim]
        final float[][] q;    // [batch][heads*headDim]
        final float[][] k;    // [batch][kvHeads*headDim]
        final float[][] v;    // [batch][kvHeads*headDim]
        final float[][] att;  // [batch][heads*headDim]
        final float[][] hb;   // [batch][ffn]
        final float[][] hb2;  // [batch][ffn]

        Batch(LlamaConfig c, int n) {
            x = new float[n][c.dim()];
            xb = new float[n][c.dim()];
            q = new float[n][c.qDim()];
            k = new float[n][c.kvDim()];
            v = new float[n][c.kvDim()];
            att = new float[n][c.qDim()];
            hb = new float[n][c.ffnDim()];
            hb2 = new float[n][c.ffnDim()];
        }
    }

    /** Marks the end of the prompt for caches that quantize it (after its last {@link #step}). */
    public void endPrefill(KvCache cache, int promptLength) {
        cache.endPrefill(promptLength);
    }

    private void attention(KvCache cache, int l, int position) {
        rmsNorm(xb, x, w.attnNorm()[l], c.rmsNormEps());
        ops.matVec(w.wq()[l], xb, q);
        ops.matVec(w.wk()[l], xb, k);
        ops.matVec(w.wv()[l], xb, v);
        rope.apply(q, c.heads(), c.headDim(), position);
        rope.apply(k, c.kvHeads(), c.headDim(), position);
        cache.store(l, position, k, v);
        cache.attend(l, position, q, att);
        ops.matVec(w.wo()[l], att, xb);
        add(x, xb);
    }

    private void feedForward(int l) {
        rmsNorm(xb, x, w.ffnNorm()[l], c.rmsNormEps());
        ops.matVec(w.wGate()[l], xb, hb);
        ops.matVec(w.wUp()[l], xb, hb2);
        swiglu(hb, hb2);
        ops.matVec(w.wDown()[l], hb, xb);
        add(x, xb);
    }

    /** gate = silu(gate) * up. */
    private static void swiglu(float[] gate, float[] up) {
        for (int i = 0; i < gate.length; i++) {
            float g = gate[i];
            gate[i] = g / (1f + (float) Math.exp(-g)) * up[i];
        }
    }

    static void rmsNorm(float[] out, float[] in, float[] weight, float eps) {
        double ss = 0;
        for (float f : in) {
            ss += f * f;
        }
        float scale = (float) (1.0 / Math.sqrt(ss / in.length + eps));
        for (int i = 0; i < in.length; i++) {
            out[i] = in[i] * scale * weight[i];
        }
    }

    private static void add(float[] acc, float[] y) {
        for (int i = 0; i < acc.length; i++) {
            acc[i] += y[i];
        }
    }

    public LlamaConfig config() {
        return c;
    }
}
