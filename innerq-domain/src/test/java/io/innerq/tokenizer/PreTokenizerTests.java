package io.innerq.tokenizer;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PreTokenizerTests {

    @Test
    void llama3KeepsContractionsOfAnyCase() {
        assertThat(PreTokenizer.LLAMA3.split("I'm don't WE'LL")).containsExactly("I", "'m", " don", "'t", " WE", "'LL");
    }

    @Test
    void gpt2ContractionsAreLowerCaseOnly() {
        assertThat(PreTokenizer.GPT2.split("it's I'M")).containsExactly("it", "'s", " I", "'", "M");
    }

    @Test
    void digitGroups() {
        assertThat(PreTokenizer.LLAMA3.split("12345")).containsExactly("123", "45");
        assertThat(PreTokenizer.GPT2.split("12345")).containsExactly("12345");
        assertThat(PreTokenizer.SMOLLM.split("12345")).containsExactly("1", "2", "3", "4", "5");
        assertThat(PreTokenizer.SMOLLM.split("a1b 22")).containsExactly("a", "1", "b", " ", "2", "2");
        assertThat(PreTokenizer.GPT2.split("x 2024")).containsExactly("x", " 2024");
        assertThat(PreTokenizer.LLAMA3.split("x 2024")).containsExactly("x", " ", "202", "4");
    }

    @Test
    void runsOfSpacesLeaveTheLastSpaceToTheNextWord() {
        // \s+(?!\S) backtracks: the run minus its last space, then the last space joins the word.
        assertThat(PreTokenizer.GPT2.split("a   b")).containsExactly("a", "  ", " b");
        assertThat(PreTokenizer.LLAMA3.split("a   b")).containsExactly("a", "  ", " b");
        assertThat(PreTokenizer.GPT2.split("a   ")).containsExactly("a", "   ");
        assertThat(PreTokenizer.SMOLLM.split("  multiple   spaces")).containsExactly(" ", " multiple", "  ", " spaces");
    }

    @Test
    void newlines() {
        assertThat(PreTokenizer.LLAMA3.split("hello\n\nworld")).containsExactly("hello", "\n\n", "world");
        assertThat(PreTokenizer.LLAMA3.split("x!!\n\ny")).containsExactly("x", "!!\n\n", "y");
        assertThat(PreTokenizer.LLAMA3.split("  \n  x")).containsExactly("  \n", " ", " x");
        assertThat(PreTokenizer.GPT2.split("a\n\nb")).containsExactly("a", "\n", "\n", "b");
    }

    @Test
    void unicodeLettersAndEmoji() {
        assertThat(PreTokenizer.LLAMA3.split("héllo wörld")).containsExactly("héllo", " wörld");
        assertThat(PreTokenizer.LLAMA3.split("hi 😀😀!")).containsExactly("hi", " 😀😀!");
        assertThat(PreTokenizer.GPT2.split("日本語のテキスト")).containsExactly("日本語のテキスト");
        assertThat(PreTokenizer.LLAMA3.split("(Ωmega)")).containsExactly("(Ωmega", ")");
        assertThat(PreTokenizer.GPT2.split("(Ωmega)")).containsExactly("(", "Ωmega", ")");
    }

    @Test
    void defaultSplitsPunctuationFirst() {
        // llama.cpp's fallback: punctuation runs, then GPT-2, then digit runs, then groups of three ASCII digits
        assertThat(PreTokenizer.DEFAULT.split("Hi, you!! 12345")).containsExactly("Hi", ",", " you", "!!", " ", "123", "45");
    }

    @Test
    void piecesConcatenateBackToTheText() {
        String text = "It's 2024:\tPrices rose 12.5% —  \"wow\"\r\n\nÇa va? 👍🏽  end  ";
        for (PreTokenizer pre : PreTokenizer.values()) {
            assertThat(String.join("", pre.split(text))).as(pre.name()).isEqualTo(text);
        }
    }

    @Test
    void namesFromGguf() {
        assertThat(PreTokenizer.forName("llama-bpe")).isEqualTo(PreTokenizer.LLAMA3);
        assertThat(PreTokenizer.forName("smollm")).isEqualTo(PreTokenizer.SMOLLM);
        assertThat(PreTokenizer.forName("")).isEqualTo(PreTokenizer.DEFAULT);
        assertThatThrownBy(() -> PreTokenizer.forName("qwen2")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'qwen2'").hasMessageContaining("tokenizer.ggml.pre");
    }
}
