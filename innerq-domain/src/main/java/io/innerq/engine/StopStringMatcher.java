package io.innerq.engine;

import java.util.List;

/**
 * Streams text while watching for stop strings: text that could still be the start of a stop string is held back
 * until it is decided.
 */
final class StopStringMatcher {

    private final List<String> stops;
    private final StringBuilder text = new StringBuilder();
    private int emitted;
    private boolean stopped;

    StopStringMatcher(List<String> stops) {
        this.stops = stops;
    }

    /** Adds generated text; returns the part now safe to emit. */
    String add(String delta) {
        if (stopped) {
            return "";
        }
        text.append(delta);
        int searchFrom = Math.max(0, emitted - longestStop() + 1);
        int cut = -1;
        for (String s : stops) {
            int i = text.indexOf(s, searchFrom);
            if (i >= 0 && (cut < 0 || i < cut)) {
                cut = i;
            }
        }
        if (cut >= 0) {
            stopped = true;
            return take(Math.max(cut, emitted));
        }
        return take(text.length() - heldBack());
    }

    /** Whether a stop string has been seen. */
    boolean stopped() {
        return stopped;
    }

    /** Releases what is held back (generation ended without a stop string). */
    String flush() {
        return stopped ? "" : take(text.length());
    }

    /** All text emitted so far. */
    String emittedText() {
        return text.substring(0, emitted);
    }

    private String take(int end) {
        String out = text.substring(emitted, end);
        emitted = end;
        return out;
    }

    /** Length of the longest suffix of the text that is a proper prefix of a stop string. */
    private int heldBack() {
        int best = 0;
        int len = text.length();
        for (String s : stops) {
            for (int k = Math.min(s.length() - 1, len - emitted); k > best; k--) {
                if (CharSequence.compare(text.subSequence(len - k, len), s.subSequence(0, k)) == 0) {
                    best = k;
                    break;
                }
            }
        }
        return best;
    }

    private int longestStop() {
        int m = 1;
        for (String s : stops) {
            m = Math.max(m, s.length());
        }
        return m;
    }
}
