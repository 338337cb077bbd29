package io.innerq.eval;

import io.innerq.cache.CapacityPlanner;
import io.innerq.cache.KvMode;
import io.innerq.model.LlamaConfig;
import io.innerq.model.HostForward;
import io.innerq.model.LlamaModel;
import io.innerq.port.out.ForwardPort;
import io.innerq.port.out.KvCachePort;
import io.innerq.port.out.KvCachePort.CacheGeometry;
import io.innerq.port.out.MatVecPort;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * Teacher-forced evaluation of KV cache modes against the fp32 cache, all in one pass over the same windows.
 * Each window's first {@code prefill} tokens run as a prompt (exact attention, then {@link KvCache#endPrefill});
 * every later token runs as a decode step, so the quantized cache is what attention reads. Every position's
 * next-token distribution is scored: negative log-likelihood of the true token, KL divergence from the fp32
 * cache's distribution, and whether both agree on the most likely token.
 */
public final class CacheModeEvaluator {

    private final LlamaModel model;
    private final ForwardPort forward;

    public CacheModeEvaluator(LlamaModel model, ForwardPort forward) {
        this.model = model;
        this.forward = forward;
    }

    public CacheModeEvaluator(LlamaModel model, MatVecPort ops, KvCachePort caches) {
        this(model, new HostForward(model, ops, caches));
    }

    /**
     * @param modes    modes to score; fp32 is always evaluated (it is the reference) and reported if listed
     * @param windows  token windows from {@link EvalText}
     * @param prefill  tokens of each window run as the prompt, at least 1 (BOS)
     * @param progress called with the number of windows done
     */
    public List<ModeScore> evaluate(List<KvMode> modes, List<int[]> windows, int prefill, IntConsumer progress) {
        if (prefill < 1) {
            throw new IllegalArgumentException("prefill must be at least 1 token, got " + prefill);
        }
        LlamaConfig c = model.config();
        var geometry = new CacheGeometry(c.layers(), c.heads(), c.kvHeads(), c.headDim());
        for (KvMode m : modes) {
            m.bitsPerElement(c.headDim()); // fails early, with the reason, for a mode this model cannot use
        }
        List<KvMode> runs = new ArrayList<>();
        runs.add(KvMode.FP32);
        for (KvMode m : modes) {
            if (!m.equals(KvMode.FP32)) {
                runs.add(m);
            }
        }
        int vocab = c.vocabularySize();
        int n = runs.size();
        double[] nll = new double[n];
        double[] kl = new double[n];
        long[] agree = new long[n];
        long predictions = 0;
        long tokensSeen = 0;
        double[] refLogProbs = new double[vocab];
        double[] logProbs = new double[vocab];

        int done = 0;
        for (int[] window : windows) {
            int steps = window.length - 1;
            if (steps > c.contextLength()) {
                throw new IllegalArgumentException("a window of %d tokens exceeds the context of %d"
                        .formatted(window.length, c.contextLength()));
            }
            var open = new ForwardPort.Sequence[n];
            try {
                for (int i = 0; i < n; i++) {
                    open[i] = forward.start(steps, runs.get(i));
                }
                for (int pos = 0; pos < steps; pos++) {
                    int target = window[pos + 1];
                    int refArgmax = -1;
                    for (int i = 0; i < n; i++) {
                        float[] logits = open[i].step(window[pos], pos, true);
                        if (pos == prefill - 1) {
                            open[i].endPrefill(prefill);
                        }
                        double[] lp = i == 0 ? refLogProbs : logProbs;
                        int argmax = logSoftmax(logits, lp);
                        nll[i] -= lp[target];
                        if (i == 0) {
                            refArgmax = argmax;
                            agree[0]++;
                        } else {
                            kl[i] += klDivergence(refLogProbs, lp);
                            if (argmax == refArgmax) {
                                agree[i]++;
                            }
                        }
                    }
                    predictions++;
                }
                tokensSeen += window.length;
            } finally {
                for (ForwardPort.Sequence sequence : open) {
                    if (sequence != null) {
                        sequence.close();
                    }
                }
            }
            progress.accept(++done);
        }

        int meanLength = (int) Math.max(1, Math.round((double) tokensSeen / Math.max(1, windows.size())));
        var scores = new ArrayList<ModeScore>();
        for (int i = 0; i < n; i++) {
            KvMode m = runs.get(i);
            if (i == 0 && !modes.contains(KvMode.FP32)) {
                continue;
            }
            double p = Math.max(1, predictions);
            scores.add(new ModeScore(m, predictions, Math.exp(nll[i] / p), kl[i] / p, agree[i] / p,
                    m.bitsPerElement(c.headDim()), new CapacityPlanner(geometry, m).bitsPerElement(meanLength)));
        }
        return scores;
    }

    /** Writes log-softmax(logits) into {@code out}; returns the argmax. */
    static int logSoftmax(float[] logits, double[] out) {
        int argmax = 0;
        for (int i = 1; i < out.length; i++) {
            if (logits[i] > logits[argmax]) {
                argmax = i;
            }
        }
        double max = logits[argmax];
        double sum = 0;
        for (int i = 0; i < out.length; i++) {
            sum += Math.exp(logits[i] - max);
        }
        double logZ = max + Math.log(sum);
        for (int i = 0; i < out.length; i++) {
            out[i] = logits[i] - logZ;
        }
        return argmax;
    }

    /** KL(p || q) for log-probabilities. */
    static double klDivergence(double[] logP, double[] logQ) {
        double kl = 0;
        for (int i = 0; i < logP.length; i++) {
            double p = Math.exp(logP[i]);
            if (p > 0) {
                kl += p * (logP[i] - logQ[i]);
            }
        }
        return Math.max(0, kl);
    }
}
