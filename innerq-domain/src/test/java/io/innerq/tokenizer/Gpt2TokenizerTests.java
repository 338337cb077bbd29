package io.innerq.tokenizer;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Byte-level BPE on a hand-built vocabulary: ids 0..255 are the single bytes in byte order, then the merge results,
 * then special tokens.
 */
class Gpt2TokenizerTests {

    static final String[] MERGES = {
            "Ġ t", "h e", "Ġt he", "i n", "Ġ c", "a t", "Ġc at", "1 2", "12 3", "' s", "Ġ Ġ", "Ċ Ċ", "t h"};
    static final int G_T = 256, HE = 257, G_THE = 258, IN = 259, G_C = 260, AT = 261, G_CAT = 262, N12 = 263,
            N123 = 264, APOS_S = 265, GG = 266, NLNL = 267, TH = 268;
    /** A piece no merge produces: only Llama 3's whole-word lookup finds it. */
    static final int THE = 269;
    static final int BEGIN = 270, EOT = 271, TAG = 272, TAG_TAG = 273, USER = 274;

    static Vocabulary vocabulary(String pre, boolean addBos) {
        List<String> tokens = new ArrayList<>();
        List<Integer> types = new ArrayList<>();
        for (int b = 0; b < 256; b++) {
            tokens.add(ByteLevel.encode(new byte[] {(byte) b}));
            types.add(Vocabulary.NORMAL);
        }
        for (String merge : MERGES) {
            tokens.add(merge.replace(" ", ""));
            types.add(Vocabulary.NORMAL);
        }
        tokens.add("the");
        types.add(Vocabulary.NORMAL);
        for (String special : List.of("<|begin_of_text|>", "<|eot_id|>", "<tag>", "<tag><tag>")) {
            tokens.add(special);
            types.add(Vocabulary.CONTROL);
        }
        tokens.add("<user>");
        types.add(Vocabulary.USER_DEFINED);
        return new Vocabulary("gpt2", pre, tokens.toArray(String[]::new), new float[tokens.size()],
                types.stream().mapToInt(Integer::intValue).toArray(), MERGES, BEGIN, EOT, -1, -1, -1,
                addBos, false, false);
    }

    static final Tokenizer GPT2 = Tokenizers.of(vocabulary("gpt-2", false));
    static final Tokenizer LLAMA3 = Tokenizers.of(vocabulary("llama-bpe", true));
    static final Tokenizer SMOLLM = Tokenizers.of(vocabulary("smollm", false));

    @Test
    void byteLevelAlphabet() {
        assertThat(ByteLevel.encode(" \n\u00ad".getBytes(java.nio.charset.StandardCharsets.UTF_8)))
                .isEqualTo("ĠĊÂŃ"); // space, newline, then U+00AD as C2 (printable: itself) and AD (not: 'Ń')
        assertThat(ByteLevel.decode("ĠĊÂŃ")).containsExactly(0x20, 0x0A, 0xC2, 0xAD);
    }

    @Test
    void mergesApplyByRankLowestFirst() {
        // " the": Ġ t h e -> (Ġ,t) rank 0 -> Ġt h e -> (h,e) rank 1 -> Ġt he -> rank 2 -> Ġthe
        assertThat(GPT2.encode(" the", false, false)).containsExactly(G_THE);
        // "the": (h,e) rank 1 beats (t,h) rank 12 and nothing merges t with he
        assertThat(GPT2.encode("the", false, false)).containsExactly('t', HE);
        // " cat": (Ġ,c) rank 4 before (a,t) rank 5, then (Ġc,at) rank 6
        assertThat(GPT2.encode("the cat", false, false)).containsExactly('t', HE, G_CAT);
        // equal ranks merge leftmost first
        assertThat(GPT2.encode("1212", false, false)).containsExactly(N12, N12);
        assertThat(GPT2.encode("123456", false, false)).containsExactly(N123, '4', '5', '6');
    }

    @Test
    void llama3TakesWholeWordsThatArePieces() {
        assertThat(LLAMA3.encode("the", false, false)).containsExactly(THE);
        assertThat(LLAMA3.encode("the cat", true, false)).containsExactly(BEGIN, THE, G_CAT);
        // digits in groups of three: "121" "2"
        assertThat(LLAMA3.encode("1212", false, false)).containsExactly(N12, '1', '2');
        assertThat(SMOLLM.encode("1212", false, false)).containsExactly('1', '2', '1', '2');
    }

    @Test
    void preTokenizerDecidesWhatMayMerge() {
        assertThat(GPT2.encode("it's", false, false)).containsExactly('i', 't', APOS_S);
        assertThat(GPT2.encode("a   b", false, false)).containsExactly('a', GG, ' ', 'b');
        assertThat(GPT2.encode("a\n\nb", false, false)).containsExactly('a', '\n', '\n', 'b');
        assertThat(LLAMA3.encode("a\n\nb", false, false)).containsExactly('a', NLNL, 'b');
    }

    @Test
    void bytesOfNonAsciiText() {
        // é = C3 A9, 😀 = F0 9F 98 80: one token per byte (ids are byte values here)
        assertThat(GPT2.encode("é😀", false, false)).containsExactly(0xC3, 0xA9, 0xF0, 0x9F, 0x98, 0x80);
        TokenDecoder decoder = GPT2.newDecoder();
        var streamed = new ArrayList<String>();
        for (int token : new int[] {0xC3, 0xA9, 0xF0, 0x9F, 0x98, 0x80}) {
            streamed.add(decoder.next(token));
        }
        assertThat(streamed).containsExactly("", "é", "", "", "", "😀");
    }

    @Test
    void bosOnlyWhenTheModelWantsIt() {
        assertThat(LLAMA3.encode("hi", true, false)).containsExactly(BEGIN, 'h', 'i');
        assertThat(LLAMA3.encode("hi", false, false)).containsExactly('h', 'i');
        assertThat(GPT2.encode("hi", true, false)).containsExactly('h', 'i');
    }

    @Test
    void specialTokensOnlyWithParseSpecial() {
        String text = "<|begin_of_text|>hi<|eot_id|>";
        assertThat(LLAMA3.encode(text, false, true)).containsExactly(BEGIN, 'h', 'i', EOT);
        int[] literal = LLAMA3.encode(text, false, false);
        assertThat(literal).doesNotContain(BEGIN, EOT).hasSizeGreaterThan(10);
        assertThat(LLAMA3.decode(literal)).isEqualTo(text);
    }

    @Test
    void longestSpecialTokenWins() {
        assertThat(GPT2.encode("<tag><tag><tag>", false, true)).containsExactly(TAG_TAG, TAG);
        assertThat(GPT2.encode("x<tag>", false, true)).containsExactly('x', TAG);
    }

    @Test
    void userDefinedTokensMatchEvenWithoutParseSpecial() {
        assertThat(GPT2.encode("<user>hi", false, false)).containsExactly(USER, 'h', 'i');
        assertThat(GPT2.decode(USER, 'h', 'i')).isEqualTo("<user>hi");
    }

    @Test
    void decodingDropsControlTokensAndRoundTrips() {
        assertThat(LLAMA3.decode(BEGIN, G_THE, G_CAT, EOT)).isEqualTo(" the cat");
        for (String text : List.of("the cat sat on 1234 mats\n\n  indented\tand \"quoted\" — it's 😀!", "é", "")) {
            for (Tokenizer t : List.of(GPT2, LLAMA3, SMOLLM)) {
                assertThat(t.decode(t.encode(text, true, false))).isEqualTo(text);
            }
        }
        assertThat(GPT2.tokenBytes(' ')).containsExactly(' ');
        assertThat(GPT2.piece(' ')).isEqualTo("Ġ");
        assertThat(GPT2.tokenBytes(EOT)).isEmpty();
        assertThat(GPT2.piece(G_THE)).isEqualTo("Ġthe");
    }

    @Test
    void eosAndEotEndGeneration() {
        assertThat(LLAMA3.isEndOfGeneration(EOT)).isTrue();
        assertThat(LLAMA3.isEndOfGeneration(BEGIN)).isFalse();
        assertThat(LLAMA3.isEndOfGeneration('a')).isFalse();
    }

    @Test
    void longPromptEncodesLikeItsWords() {
        String words = "the cat 1212 it's\n\n";
        String text = words.repeat(500);
        int[] once = LLAMA3.encode(words, false, false);
        int[] all = LLAMA3.encode(text, false, false);
        assertThat(all).hasSize(once.length * 500);
        assertThat(Arrays.copyOfRange(all, all.length - once.length, all.length)).containsExactly(once);
    }
}
