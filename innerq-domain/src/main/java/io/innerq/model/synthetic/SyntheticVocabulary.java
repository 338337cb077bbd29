package io.innerq.model.synthetic;

import io.innerq.gguf.GgufFileWriter;
import io.innerq.gguf.GgufValue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A made-up tokenizer vocabulary of any size, written as {@code tokenizer.ggml.*} metadata. Every byte has a token,
 * so any text encodes and decodes back; the other pieces are the n-grams of a small alphabet (a word-start marker,
 * letters by English frequency, digits, punctuation), shortest first, the marker only at the start. The text a model
 * with random weights writes in it is meaningless; the point is the size and the cost of tokenizing.
 *
 * <p>BPE: ids 0..255 are the bytes (GPT-2's byte-to-character spelling), then one piece per merge
 * {@code "<n-1 gram> <char>"} in rank order, then the special tokens: Llama 3's 256 when the vocabulary has at least
 * 4096 tokens, else its first 11. SentencePiece: {@code <unk> <s> </s>}, the 256 {@code <0xXX>} byte tokens, then
 * the pieces with scores that fall with their id (shorter pieces merge first).
 */
final class SyntheticVocabulary {

    /** Llama 3's first special tokens, in id order from 128000; reserved tokens follow. */
    static final List<String> LLAMA3_SPECIALS = List.of("<|begin_of_text|>", "<|end_of_text|>",
            "<|reserved_special_token_0|>", "<|reserved_special_token_1|>", "<|finetune_right_pad_id|>",
            "<|reserved_special_token_2|>", "<|start_header_id|>", "<|end_header_id|>", "<|eom_id|>", "<|eot_id|>",
            "<|python_tag|>");

    /** Llama 3's chat template (the 3.0 form). */
    static final String LLAMA3_CHAT_TEMPLATE = "{% set loop_messages = messages %}{% for message in loop_messages %}"
            + "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'"
            + "+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
            + "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
            + "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}";

    private static final String LETTERS = "etaoinshrdlcumwfgypbvkjxqz";
    /** Characters after the first of a piece. */
    private static final String INNER = LETTERS + LETTERS.toUpperCase(java.util.Locale.ROOT) + "0123456789.,!?'\"-:;()";

    private static final int NORMAL = 1, UNKNOWN = 2, CONTROL = 3, BYTE = 6; // GGUF token types

    private SyntheticVocabulary() {
    }

    static int minimumSize(VocabularyStyle style) {
        return switch (style) {
            case BPE -> 256 + LLAMA3_SPECIALS.size();
            case SENTENCEPIECE -> 3 + 256;
        };
    }

    /** Adds the tokenizer metadata of a {@code size}-token vocabulary of {@code style}. */
    static void write(VocabularyStyle style, int size, GgufFileWriter.Layout layout) {
        switch (style) {
            case BPE -> bpe(size, layout);
            case SENTENCEPIECE -> sentencePiece(size, layout);
        }
    }

    private static void bpe(int size, GgufFileWriter.Layout layout) {
        int specials = size >= 4096 ? 256 : LLAMA3_SPECIALS.size();
        int pieces = size - 256 - specials;
        String[] tokens = new String[size];
        int[] types = new int[size];
        String[] merges = new String[pieces];
        Arrays.fill(types, NORMAL);
        for (int b = 0; b < 256; b++) {
            tokens[b] = String.valueOf(byteChar(b));
        }
        var grams = new NGrams(byteChar(' '), false); // the single characters are byte tokens already
        int id = 256;
        for (int m = 0; m < pieces; m++, id++) {
            String[] split = grams.next();
            tokens[id] = split[0] + split[1];
            merges[m] = split[0] + " " + split[1];
        }
        for (int s = 0; s < specials; s++, id++) {
            tokens[id] = s < LLAMA3_SPECIALS.size() ? LLAMA3_SPECIALS.get(s)
                    : "<|reserved_special_token_" + (s - LLAMA3_SPECIALS.size() + 3) + "|>";
            types[id] = CONTROL;
        }
        int first = size - specials;
        layout.put("tokenizer.ggml.model", "gpt2")
                .put("tokenizer.ggml.pre", "llama-bpe")
                .put("tokenizer.ggml.tokens", GgufValue.strings(tokens))
                .put("tokenizer.ggml.token_type", GgufValue.ints(types))
                .put("tokenizer.ggml.merges", GgufValue.strings(merges))
                .put("tokenizer.ggml.bos_token_id", GgufValue.u32(first))          // <|begin_of_text|>
                .put("tokenizer.ggml.eos_token_id", GgufValue.u32(first + 1))      // <|end_of_text|>
                .put("tokenizer.ggml.eot_token_id", GgufValue.u32(first + 9))      // <|eot_id|>
                .put("tokenizer.ggml.add_bos_token", GgufValue.bool(true))
                .put("tokenizer.chat_template", LLAMA3_CHAT_TEMPLATE);
    }

    private static void sentencePiece(int size, GgufFileWriter.Layout layout) {
        String[] tokens = new String[size];
        int[] types = new int[size];
        float[] scores = new float[size];
        tokens[0] = "<unk>";
        types[0] = UNKNOWN;
        tokens[1] = "<s>";
        types[1] = CONTROL;
        tokens[2] = "</s>";
        types[2] = CONTROL;
        for (int b = 0; b < 256; b++) {
            tokens[3 + b] = "<0x%02X>".formatted(b);
            types[3 + b] = BYTE;
        }
        var grams = new NGrams('\u2581', true);
        for (int id = 259, rank = 0; id < size; id++, rank++) {
            String[] split = grams.next();
            tokens[id] = split[0] + split[1];
            types[id] = NORMAL;
            scores[id] = -rank;
        }
        layout.put("tokenizer.ggml.model", "llama")
                .put("tokenizer.ggml.tokens", GgufValue.strings(tokens))
                .put("tokenizer.ggml.scores", GgufValue.floats(scores))
                .put("tokenizer.ggml.token_type", GgufValue.ints(types))
                .put("tokenizer.ggml.bos_token_id", GgufValue.u32(1))
                .put("tokenizer.ggml.eos_token_id", GgufValue.u32(2))
                .put("tokenizer.ggml.unknown_token_id", GgufValue.u32(0))
                .put("tokenizer.ggml.add_bos_token", GgufValue.bool(true));
    }

    /** GPT-2's byte-to-character map: printable Latin-1 bytes stand for themselves, the others for U+0100 on. */
    static char byteChar(int b) {
        int extra = 0;
        for (int i = 0; i < 256; i++) {
            boolean printable = (i >= '!' && i <= '~') || (i >= 0xA1 && i <= 0xAC) || (i >= 0xAE && i <= 0xFF);
            if (i == b) {
                return printable ? (char) b : (char) (256 + extra);
            }
            if (!printable) {
                extra++;
            }
        }
        throw new IllegalArgumentException("not a byte: " + b);
    }

    /**
     * The pieces in order: the single characters (when asked for), then every piece of length n + 1 as a piece of
     * length n followed by one inner character. Each is returned split as {prefix, last character} (prefix empty for
     * single ones).
     */
    private static final class NGrams {
        private final String first; // characters a piece may start with
        private List<String> previous = List.of("");
        private List<String> current = new ArrayList<>();
        private int prefix;
        private int character;

        NGrams(char wordStart, boolean singles) {
            first = wordStart + INNER;
            if (!singles) {
                previous = first.chars().mapToObj(c -> String.valueOf((char) c)).toList();
            }
        }

        String[] next() {
            String alphabet = previous.getFirst().isEmpty() ? first : INNER;
            if (character == alphabet.length()) {
                character = 0;
                prefix++;
            }
            if (prefix == previous.size()) {
                previous = current;
                current = new ArrayList<>();
                prefix = 0;
                alphabet = INNER;
            }
            String p = previous.get(prefix);
            String c = String.valueOf(alphabet.charAt(character++));
            current.add(p + c);
            return new String[] {p, c};
        }
    }
}
