package io.innerq.tokenizer;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntPredicate;

/** Splits text around the literal text of special tokens; at each position the longest special token wins. */
final class SpecialTokens {

    interface Sink {
        void text(String text);

        void token(int id);
    }

    private record Entry(String text, int id) {}

    private final BitSet firstChars = new BitSet(1 << 16);
    private final Map<Character, Entry[]> byFirstChar = new HashMap<>();

    /** The tokens of {@code vocabulary} accepted by {@code include} (tokens with empty text never match). */
    SpecialTokens(Vocabulary vocabulary, IntPredicate include) {
        Map<Character, List<Entry>> lists = new HashMap<>();
        String[] tokens = vocabulary.tokens();
        for (int id = 0; id < tokens.length; id++) {
            if (!tokens[id].isEmpty() && include.test(id)) {
                lists.computeIfAbsent(tokens[id].charAt(0), c -> new ArrayList<>()).add(new Entry(tokens[id], id));
            }
        }
        lists.forEach((c, list) -> {
            list.sort(Comparator.comparingInt((Entry e) -> e.text.length()).reversed());
            firstChars.set(c);
            byFirstChar.put(c, list.toArray(Entry[]::new));
        });
    }

    void split(String text, Sink sink) {
        if (byFirstChar.isEmpty()) {
            if (!text.isEmpty()) {
                sink.text(text);
            }
            return;
        }
        int last = 0;
        for (int i = 0; i < text.length(); ) {
            char c = text.charAt(i);
            Entry match = null;
            if (firstChars.get(c)) {
                for (Entry e : byFirstChar.get(c)) {
                    if (text.startsWith(e.text, i)) {
                        match = e;
                        break;
                    }
                }
            }
            if (match == null) {
                i++;
                continue;
            }
            if (i > last) {
                sink.text(text.substring(last, i));
            }
            sink.token(match.id);
            i += match.text.length();
            last = i;
        }
        if (last < text.length()) {
            sink.text(text.substring(last));
        }
    }
}
