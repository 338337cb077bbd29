package io.innerq.port.out;

import io.innerq.port.out.ForwardPort.Batch;
import io.innerq.port.out.ForwardPort.Span;

import java.util.List;

/** {@link ForwardPort#batch}'s default: each span run on its own sequence, one after another. */
final class SequentialBatch implements Batch {

    private final int maxTokens;
    private final float[][] rows; // [maxTokens] each span's sequence's own logits buffer, float[vocab]

    SequentialBatch(int maxTokens) {
        if (maxTokens < 1) {
            throw new IllegalArgumentException("a batch needs room for at least 1 token, got " + maxTokens);
        }
        this.maxTokens = maxTokens;
        this.rows = new float[maxTokens][];
    }

    @Override
    public int maxTokens() {
        return maxTokens;
    }

    @Override
    public float[][] run(List<Span> spans) {
        Batch.check(spans, maxTokens);
        for (int i = 0; i < spans.size(); i++) {
            Span s = spans.get(i);
            rows[i] = s.count() == 1
                    ? s.sequence().step(s.tokens()[s.start()], s.start(), true)
                    : s.sequence().prefill(s.tokens(), s.start(), s.count());
        }
        return rows;
    }
}
