package io.innerq.eval;

import io.innerq.cache.KvMode;

/**
 * One cache mode's result over an evaluation.
 *
 * @param perplexity        exp of the mean negative log-likelihood of the next token
 * @param klDivergence      mean KL(p_fp32 || p_mode) of the next-token distributions, in nats
 * @param top1Agreement     fraction of positions whose most likely token equals the fp32 cache's
 * @param bitsPerElement    bits per stored element in the quantized part (scales and zero points included)
 * @param bitsAtMeanLength  bits per element of the whole cache at the mean window length, windows included
 */
public record ModeScore(KvMode mode, long predictions, double perplexity, double klDivergence, double top1Agreement,
                        double bitsPerElement, double bitsAtMeanLength) {
}
