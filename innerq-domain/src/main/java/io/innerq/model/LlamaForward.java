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

    /**
     * Tokens a prompt runs through the weights at once: each weight row, made floats once, serves them all (64 ran
     * the 258-token prefill of {@code bench decode} about a fifth faster than 32; 128 no faster again).
     */
    public static final int PREFILL_BATCH = 64;
    private BatchForward batch; // prompt buffers, allocated on the first prefill
    private final int[] lastToken = new int[1];

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
        if (count < 1) {
            throw new IllegalArgumentException("a prefill needs at least 1 token, got " + count);
        }
        if (batch == null) {
            batch = new BatchForward(c, w, ops, null, rope, PREFILL_BATCH); // one cache: its attention on the caller
        }
        int done = 0;
        int n = 0;
        while (done < count) {
            n = Math.min(PREFILL_BATCH, count - done);
            for (int i = 0; i < n; i++) {
                int position = start + done + i;
                batch.set(i, cache, tokens[position], position);
            }
            batch.layers(n);
            done += n;
        }
        lastToken[0] = n - 1;
        return batch.logits(lastToken, 1)[0];
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
    static void swiglu(float[] gate, float[] up) {
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

    static void add(float[] acc, float[] y) {
        for (int i = 0; i < acc.length; i++) {
            acc[i] += y[i];
        }
    }

    public LlamaConfig config() {
        return c;
    }
}
