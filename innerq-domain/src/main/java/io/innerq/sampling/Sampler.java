package io.innerq.sampling;

import java.util.SplittableRandom;

/**
 * Picks the next token from logits. All scratch space is allocated once per sequence; {@link #sample} allocates
 * nothing. Not thread-safe: one per sequence.
 */
public final class Sampler {

    private final SamplingParams p;
    private final SplittableRandom random;
    private final int[] ids;      // [vocab] candidate token ids
    private final float[] probs;  // [vocab] candidate weights, parallel to ids
    private final int[] seen;     // [vocab] stamp of the last penalty pass that touched a token
    private int stamp;

    public Sampler(SamplingParams params, int vocabularySize) {
        this.p = params;
        this.random = new SplittableRandom(params.seed());
        this.ids = new int[vocabularySize];
        this.probs = new float[vocabularySize];
        this.seen = new int[vocabularySize];
    }

    /**
     * Chooses a token. {@code logits} is modified by the repetition penalty.
     *
     * @param history tokens so far (prompt and generated), the last {@code historyLength} of which are valid
     */
    public int sample(float[] logits, int[] history, int historyLength) {
        int vocab = ids.length;
        if (p.repetitionPenalty() != 1f) {
            penalize(logits, history, historyLength);
        }
        if (p.isGreedy()) {
            return argmax(logits, vocab);
        }
        int n = vocab;
        for (int i = 0; i < n; i++) {
            ids[i] = i;
            probs[i] = logits[i];
        }
        if (p.topK() > 0 && p.topK() < n) {
            selectTop(0, n - 1, p.topK());
            n = p.topK();
        }
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, probs[i]);
        }
        // probs now hold logits of candidates; turn them into temperature-1 weights exp(l - max) in (0, 1]
        double sum = 0;
        for (int i = 0; i < n; i++) {
            probs[i] = (float) Math.exp(probs[i] - max);
            sum += probs[i];
        }
        if (p.topP() < 1f) {
            n = nucleus(n, sum);
        }
        if (p.minP() > 0f) {
            int kept = 0;
            for (int i = 0; i < n; i++) { // the most likely token has weight 1
                if (probs[i] >= p.minP()) {
                    ids[kept] = ids[i];
                    probs[kept++] = probs[i];
                }
            }
            n = kept;
        }
        // temperature: weight^(1/T) = exp((l - max) / T)
        double total = 0;
        float invT = 1f / p.temperature();
        for (int i = 0; i < n; i++) {
            float w = (float) Math.exp((logits[ids[i]] - max) * invT);
            probs[i] = w;
            total += w;
        }
        double r = random.nextDouble() * total;
        double acc = 0;
        for (int i = 0; i < n; i++) {
            acc += probs[i];
            if (r < acc) {
                return ids[i];
            }
        }
        return ids[n - 1];
    }

    private void penalize(float[] logits, int[] history, int length) {
        stamp++;
        float penalty = p.repetitionPenalty();
        for (int i = Math.max(0, length - p.repetitionWindow()); i < length; i++) {
            int t = history[i];
            if (seen[t] != stamp) {
                seen[t] = stamp;
                logits[t] = logits[t] > 0 ? logits[t] / penalty : logits[t] * penalty;
            }
        }
    }

    static int argmax(float[] logits, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }

    /** Keeps the smallest prefix, by descending weight, whose mass reaches topP; returns its length. */
    private int nucleus(int n, double sum) {
        // Tokens below (1 - topP) / (n - 1) of the mass cannot be in the nucleus: drop them before sorting.
        float cutoff = (float) ((1 - p.topP()) / Math.max(1, n - 1) * sum);
        int kept = 0;
        for (int i = 0; i < n; i++) {
            if (probs[i] >= cutoff) {
                ids[kept] = ids[i];
                probs[kept++] = probs[i];
            }
        }
        sortDescending(0, kept - 1);
        double target = p.topP() * sum;
        double acc = 0;
        for (int i = 0; i < kept; i++) {
            acc += probs[i];
            if (acc >= target) {
                return i + 1;
            }
        }
        return kept;
    }

    /** Quickselect: moves the k largest of probs[lo..hi] (with their ids) to the front. */
    private void selectTop(int lo, int hi, int k) {
        while (lo < hi) {
            partition(lo, hi);
            if (k <= greaterEnd) {
                hi = greaterEnd - 1;
            } else if (k <= equalEnd) {
                return;
            } else {
                lo = equalEnd;
            }
        }
    }

    private void sortDescending(int lo, int hi) {
        while (lo < hi) {
            partition(lo, hi);
            int gEnd = greaterEnd;
            int eEnd = equalEnd;
            if (gEnd - lo < hi - eEnd) {
                sortDescending(lo, gEnd - 1);
                lo = eEnd;
            } else {
                sortDescending(eEnd, hi);
                hi = gEnd - 1;
            }
        }
    }

    private int greaterEnd; // after partition: [lo, greaterEnd) > pivot
    private int equalEnd;   //                  [greaterEnd, equalEnd) == pivot, [equalEnd, hi] < pivot

    /** Three-way partition of probs[lo..hi], descending, around the middle element; equal runs stay linear. */
    private void partition(int lo, int hi) {
        float pivot = probs[(lo + hi) >>> 1];
        int gt = lo;
        int i = lo;
        int lt = hi;
        while (i <= lt) {
            float v = probs[i];
            if (v > pivot) {
                swap(i++, gt++);
            } else if (v < pivot) {
                swap(i, lt--);
            } else {
                i++;
            }
        }
        greaterEnd = gt;
        equalEnd = lt + 1;
    }

    private void swap(int a, int b) {
        float pf = probs[a];
        probs[a] = probs[b];
        probs[b] = pf;
        int pi = ids[a];
        ids[a] = ids[b];
        ids[b] = pi;
    }
}
