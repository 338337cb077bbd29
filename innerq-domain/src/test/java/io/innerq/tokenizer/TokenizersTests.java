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
    void rejectsFilesWithoutTokenizer() {
        assertThatThrownBy(() -> Tokenizers.fromGguf(new GgufBytes().put("general.name", "x").parse()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("tokenizer.ggml.model");
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
