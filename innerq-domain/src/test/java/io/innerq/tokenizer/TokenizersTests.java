package io.innerq.tokenizer;

import io.innerq.gguf.GgufFile;
import io.innerq.testing.TestModels;
import org.junit.jupiter.api.Test;

import java.io.IOException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TokenizersTests {

    @Test
    void readsTheStoriesVocabulary() throws IOException {
        try (var gguf = GgufFile.open(TestModels.stories260K())) {
            Vocabulary v = Vocabulary.fromGguf(gguf);
            assertThat(v.model()).isEqualTo("llama");
            assertThat(v.size()).isEqualTo(512);
            assertThat(v.bos()).isEqualTo(1);
            assertThat(v.eos()).isEqualTo(2);
            assertThat(v.unknown()).isEqualTo(0);
            assertThat(v.padding()).as("2^32-1 in the file means none").isEqualTo(-1);
            assertThat(v.eot()).isEqualTo(-1);
            assertThat(v.addBos()).isTrue();
            assertThat(v.addEos()).isFalse();
            assertThat(v.addSpacePrefix()).isTrue();
            assertThat(v.type(1)).isEqualTo(Vocabulary.CONTROL);
            assertThat(v.type(3)).isEqualTo(Vocabulary.BYTE);
            assertThat(v.scores()[403]).isEqualTo(-144f);
            assertThat(v.merges()).isEmpty();
        }
    }

    static GgufBytes gpt2Metadata() {
        return new GgufBytes()
                .put("tokenizer.ggml.model", "gpt2")
                .put("tokenizer.ggml.pre", "llama-bpe")
                .put("tokenizer.ggml.tokens", new String[] {"a", "b", "ab", "Ġ", "Ġab", "<|begin_of_text|>", "<|eot_id|>"})
                .put("tokenizer.ggml.token_type", new int[] {1, 1, 1, 1, 1, 3, 3})
                .put("tokenizer.ggml.merges", new String[] {"a b", "Ġ ab"})
                .put("tokenizer.ggml.bos_token_id", 5)
                .put("tokenizer.ggml.eos_token_id", 6);
    }

    @Test
    void buildsByteLevelBpeFromGguf() {
        Tokenizer t = Tokenizers.fromGguf(gpt2Metadata().parse());
        assertThat(t).isInstanceOf(Gpt2Tokenizer.class);
        assertThat(t.encode("ab ab", true, false)).containsExactly(5, 2, 4);
        assertThat(t.encode("<|begin_of_text|>ab<|eot_id|>", false, true)).containsExactly(5, 2, 6);
        assertThat(t.isEndOfGeneration(6)).isTrue();
        assertThat(t.decode(5, 2, 4, 6)).isEqualTo("ab ab");
    }

    @Test
    void addBosTokenOverridesThePreTokenizerDefault() {
        Tokenizer t = Tokenizers.fromGguf(gpt2Metadata().put("tokenizer.ggml.add_bos_token", false).parse());
        assertThat(t.encode("ab", true, false)).containsExactly(2);
    }

    @Test
    void rejectsUnsupportedTokenizerModels() {
        var bert = new GgufBytes().put("tokenizer.ggml.model", "bert")
                .put("tokenizer.ggml.tokens", new String[] {"[PAD]"});
        assertThatThrownBy(() -> Tokenizers.fromGguf(bert.parse()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("test.gguf").hasMessageContaining("'bert'")
                .hasMessageContaining("tokenizer.ggml.model");
    }

    @Test
    void rejectsUnsupportedPreTokenizers() {
        assertThatThrownBy(() -> Tokenizers.fromGguf(gpt2Metadata().put("tokenizer.ggml.pre", "qwen2").parse()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("test.gguf").hasMessageContaining("'qwen2'");
    }

    @Test
    void rejectsFilesWithoutTokenizer() {
        assertThatThrownBy(() -> Tokenizers.fromGguf(new GgufBytes().put("general.name", "x").parse()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("tokenizer.ggml.model");
    }

    @Test
    void rejectsDuplicateTokens() {
        var duplicate = gpt2Metadata().put("tokenizer.ggml.tokens", new String[] {"a", "b", "ab", "Ġ", "ab", "<s>", "</s>"});
        assertThatThrownBy(() -> Tokenizers.fromGguf(duplicate.parse()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("duplicate token").hasMessageContaining("'ab'");
    }

    @Test
    void vocabularyValidatesItself() {
        String[] tokens = {"a", "b"};
        assertThatThrownBy(() -> new Vocabulary("llama", "", tokens, new float[1], new int[2], new String[0],
                -1, -1, -1, -1, -1, false, false, true))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("1 scores");
        assertThatThrownBy(() -> new Vocabulary("llama", "", tokens, new float[2], new int[2], new String[0],
                2, -1, -1, -1, -1, false, false, true))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bos token id 2");
        assertThatThrownBy(() -> new Vocabulary("gpt2", "", tokens, new float[2], new int[2], new String[] {"ab"},
                -1, -1, -1, -1, -1, false, false, false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'ab'");
        assertThatThrownBy(() -> new Vocabulary("llama", "", tokens, new float[2], new int[2], new String[0],
                -1, -1, -1, -1, -1, true, false, true))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no BOS");
    }
}
