package io.innerq.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The regex word splitting that runs before byte-level BPE, per {@code tokenizer.ggml.pre}, as llama.cpp does it:
 * the expressions apply one after another, each to every piece the previous ones produced, and text between matches
 * is kept as a piece of its own. Java's regex with {@link Pattern#UNICODE_CHARACTER_CLASS} gives {@code \s}, {@code
 * \p{L}} and {@code \p{N}} their Unicode meaning and backtracks through {@code \s+(?!\S)} like Oniguruma and PCRE
 * (so "a   b" splits as "a", "  ", " b").
 */
enum PreTokenizer {

    /** Llama 3 ({@code llama-bpe}): letters keep one leading non-letter, digits in groups of up to three. */
    LLAMA3(true,
            "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"
                    + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"),

    /** GPT-2 ({@code gpt-2}). */
    GPT2(false, Regexes.GPT2),

    /** SmolLM ({@code smollm}): every digit on its own, then GPT-2. */
    SMOLLM(false, "\\p{N}", Regexes.GPT2),

    /** llama.cpp's fallback for {@code default} or a missing {@code tokenizer.ggml.pre}. */
    DEFAULT(false, "[\\p{P}\\$\\+<=>\\^~\\|]+", Regexes.GPT2, "\\p{N}+", "[0-9][0-9][0-9]");

    private static final class Regexes {
        static final String GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
    }

    /** Whether a word that is already a vocabulary piece is taken whole instead of being merged (llama.cpp). */
    final boolean ignoreMerges;
    private final Pattern[] patterns;

    PreTokenizer(boolean ignoreMerges, String... regexes) {
        this.ignoreMerges = ignoreMerges;
        this.patterns = new Pattern[regexes.length];
        for (int i = 0; i < regexes.length; i++) {
            patterns[i] = Pattern.compile(regexes[i], Pattern.UNICODE_CHARACTER_CLASS);
        }
    }

    /** The pre-tokenizer named by {@code tokenizer.ggml.pre} ("" when the key is absent). */
    static PreTokenizer forName(String pre) {
        return switch (pre) {
            case "llama3", "llama-v3", "llama-bpe" -> LLAMA3;
            case "gpt-2" -> GPT2;
            case "smollm" -> SMOLLM;
            case "default", "" -> DEFAULT;
            default -> throw new IllegalArgumentException(("pre-tokenizer '%s' (tokenizer.ggml.pre) is not supported;"
                    + " InnerQ supports llama-bpe (llama3, llama-v3), smollm, gpt-2 and default").formatted(pre));
        };
    }

    /** The words of {@code text}, in order; they concatenate back to {@code text}. */
    List<String> split(String text) {
        List<String> pieces = List.of(text);
        for (Pattern pattern : patterns) {
            List<String> next = new ArrayList<>(pieces.size() * 2);
            for (String piece : pieces) {
                Matcher m = pattern.matcher(piece);
                int last = 0;
                while (m.find()) {
                    if (m.start() > last) {
                        next.add(piece.substring(last, m.start()));
                    }
                    if (m.end() > m.start()) {
                        next.add(piece.substring(m.start(), m.end()));
                    }
                    last = m.end();
                }
                if (last < piece.length()) {
                    next.add(piece.substring(last));
                }
            }
            pieces = next;
        }
        return pieces;
    }
}
