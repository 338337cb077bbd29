package io.innerq.tokenizer;

import java.util.PriorityQueue;

/**
 * Greedy pair merging, the core of both SentencePiece BPE and byte-level BPE: start from one symbol per code point,
 * repeatedly merge the adjacent pair with the highest priority (ties: leftmost first) until no pair may merge. A
 * priority queue over a doubly linked list of symbols keeps this O(n log n) instead of rescanning the text.
 */
final class PairMerger {

    /** The priority of merging {@code text[start, mid)} with {@code text[mid, end)}; NaN when they may not merge. */
    @FunctionalInterface
    interface Priority {
        float of(String text, int start, int mid, int end);
    }

    private record Candidate(float priority, int left, int right, int length) {}

    private PairMerger() {}

    /** The end offsets (in chars) of the merged symbols, in order; the first symbol starts at 0. */
    static int[] merge(String text, Priority priority) {
        int n = text.codePointCount(0, text.length());
        if (n <= 1) {
            return n == 0 ? new int[0] : new int[] {text.length()};
        }
        // Symbol i covers text[start[i], end[i]); a merged-away symbol has start == end.
        int[] start = new int[n];
        int[] end = new int[n];
        int[] prev = new int[n];
        int[] next = new int[n];
        for (int i = 0, offset = 0; i < n; i++) {
            start[i] = offset;
            offset += Character.charCount(text.codePointAt(offset));
            end[i] = offset;
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        var queue = new PriorityQueue<Candidate>(n, (a, b) -> a.priority != b.priority
                ? Float.compare(b.priority, a.priority)
                : Integer.compare(a.left, b.left));
        for (int i = 1; i < n; i++) {
            offer(queue, text, priority, start, end, i - 1, i);
        }
        while (!queue.isEmpty()) {
            Candidate c = queue.poll();
            int l = c.left, r = c.right;
            // Stale when either side was merged away or has grown since the candidate was queued.
            if (start[l] == end[l] || start[r] == end[r] || (end[l] - start[l]) + (end[r] - start[r]) != c.length) {
                continue;
            }
            end[l] = end[r];
            start[r] = end[r];
            next[l] = next[r];
            if (next[r] >= 0) {
                prev[next[r]] = l;
            }
            offer(queue, text, priority, start, end, prev[l], l);
            offer(queue, text, priority, start, end, l, next[l]);
        }
        int count = 0;
        for (int i = 0; i >= 0; i = next[i]) {
            count++;
        }
        int[] ends = new int[count];
        for (int i = 0, k = 0; i >= 0; i = next[i]) {
            ends[k++] = end[i];
        }
        return ends;
    }

    private static void offer(PriorityQueue<Candidate> queue, String text, Priority priority,
                              int[] start, int[] end, int left, int right) {
        if (left < 0 || right < 0) {
            return;
        }
        float p = priority.of(text, start[left], end[left], end[right]);
        if (!Float.isNaN(p)) {
            queue.add(new Candidate(p, left, right, end[right] - start[left]));
        }
    }
}
