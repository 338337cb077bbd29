package io.innerq.tokenizer;

import io.innerq.gguf.GgufFile;
import io.innerq.testing.TestModels;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SentencePieceTokenizerTests {

    static Vocabulary vocabulary;
    static Tokenizer tokenizer;

    @BeforeAll
    static void load() throws IOException {
        try (var gguf = GgufFile.open(TestModels.stories260K())) {
            vocabulary = Vocabulary.fromGguf(gguf);
            tokenizer = Tokenizers.fromGguf(gguf);
        }
    }

    static Stream<Arguments> referenceEncodings() {
        return Stream.of(
                Arguments.of("Once upon a time", new int[] {1, 403, 407, 261, 378}),
                Arguments.of("Hello world", new int[] {1, 346, 306, 414, 263, 304, 341}),
                Arguments.of("The cat sat.", new int[] {1, 291, 280, 294, 262, 294, 426}),
                Arguments.of("Tom said 你好 to", new int[] {1, 274, 287, 336, 410, 231, 192, 163, 232, 168, 192, 267}),
                Arguments.of("", new int[] {1}));
    }

    @ParameterizedTest
    @MethodSource("referenceEncodings")
    void encodesLikeTheReference(String text, int[] expected) {
        assertThat(tokenizer).isInstanceOf(SentencePieceTokenizer.class);
        assertThat(tokenizer.encode(text, true, false)).containsExactly(expected);
    }

    @ParameterizedTest
    @MethodSource("referenceEncodings")
    void decodingTheReferenceGivesTheTextBack(String text, int[] tokens) {
        assertThat(tokenizer.decode(tokens)).isEqualTo(text);
    }

    @Test
    void bosIsAddedOnlyWhenAsked() {
        assertThat(tokenizer.encode("Once", false, false)).containsExactly(403);
        assertThat(tokenizer.encode("Once", true, false)).containsExactly(1, 403);
        assertThat(tokenizer.encode("", false, false)).isEmpty();
    }

    @Test
    void streamingDropsTheSpaceOnlyRightAfterBos() {
        TokenDecoder decoder = tokenizer.newDecoder();
        assertThat(decoder.next(1)).isEmpty();
        assertThat(decoder.next(403)).isEqualTo("Once");
        assertThat(decoder.next(407)).isEqualTo(" upon");
        assertThat(decoder.next(432)).isEqualTo(",");
        assertThat(decoder.next(383)).isEqualTo(" there");
        assertThat(decoder.finish()).isEmpty();

        // A stream of generated tokens (no BOS) keeps every space: " there" continues the prompt's text.
        TokenDecoder generated = tokenizer.newDecoder();
        assertThat(generated.next(383)).isEqualTo(" there");
    }

    @Test
    void byteFallbackSpellsAnEmojiAsItsFourBytes() {
        // U+1F600 is F0 9F 98 80; byte token <0xXX> has id XX + 3 in this vocabulary.
        int[] tokens = tokenizer.encode("😀", true, false);
        assertThat(tokens).containsExactly(1, 410, 0xF0 + 3, 0x9F + 3, 0x98 + 3, 0x80 + 3);
        assertThat(tokenizer.piece(0xF0 + 3)).isEqualTo("<0xF0>");

        TokenDecoder decoder = tokenizer.newDecoder();
        var pieces = new ArrayList<String>();
        for (int token : tokens) {
            pieces.add(decoder.next(token));
        }
        assertThat(pieces).containsExactly("", "", "", "", "", "😀");
    }

    @ParameterizedTest
    @ValueSource(strings = {"Lily and Tom went to the park.", "  two leading spaces", "trailing space ",
            "line one\nline two\n\n", "tabs\tand\u00a0nbsp", "你好，世界", "mixed 😀 emoji 👍🏽 and é",
            "\"Quoted,\" she said - it's 3:45!"})
    void decodingAnEncodingGivesTheTextBack(String text) {
        assertThat(tokenizer.decode(tokenizer.encode(text, true, false))).isEqualTo(text);
    }

    @Test
    void newlineUsesItsByteToken() {
        assertThat(tokenizer.encode("\n", false, false)).containsExactly(410, 0x0A + 3);
        assertThat(tokenizer.tokenBytes(0x0A + 3)).containsExactly(0x0A);
    }

    @Test
    void tokenBytesAndPieces() {
        assertThat(tokenizer.piece(403)).isEqualTo("\u2581Once");
        assertThat(tokenizer.tokenBytes(403)).isEqualTo(" Once".getBytes(StandardCharsets.UTF_8));
        assertThat(tokenizer.tokenBytes(1)).isEmpty();
        assertThat(tokenizer.tokenBytes(2)).isEmpty();
        assertThat(tokenizer.vocabularySize()).isEqualTo(512);
        assertThat(tokenizer.bos()).isEqualTo(1);
        assertThat(tokenizer.eos()).isEqualTo(2);
        assertThatThrownBy(() -> tokenizer.piece(512)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("512");
        assertThatThrownBy(() -> tokenizer.newDecoder().next(-1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void onlyEosEndsGeneration() {
        assertThat(tokenizer.isEndOfGeneration(2)).isTrue();
        assertThat(tokenizer.isEndOfGeneration(1)).isFalse();
        assertThat(tokenizer.isEndOfGeneration(403)).isFalse();
        assertThat(tokenizer.isEndOfGeneration(-1)).isFalse();
    }

    @Test
    void specialTokenTextIsParsedOnlyWhenAsked() {
        // After a special token the dummy-prefix space comes back, as in llama.cpp: "<s>Once" -> <s> "▁Once".
        assertThat(tokenizer.encode("<s>Once", false, true)).containsExactly(1, 403);
        assertThat(tokenizer.encode("Once</s>", false, true)).containsExactly(403, 2);
        int[] literal = tokenizer.encode("<s>Once", false, false);
        assertThat(literal).doesNotContain(1, 2).startsWith(410, 504); // "▁", "<"
        assertThat(tokenizer.decode(literal)).isEqualTo(" <s>Once");
    }

    @Test
    void controlTokensDecodeToNothing() {
        assertThat(tokenizer.decode(1, 403, 2, 403)).isEqualTo("Once Once");
        // Every BOS starts a new text, whose first piece loses its dummy-prefix space.
        assertThat(tokenizer.decode(1, 403, 2, 1, 403)).isEqualTo("OnceOnce");
    }

    @Test
    void matchesLlama2cOnHeldOutStories() throws IOException {
        String text = Files.readString(TestModels.requireShared("heldout.txt"));
        List<String> stories = List.of(text.split("\n<\\|endoftext\\|>\n"));
        assertThat(stories).hasSizeGreaterThan(10);
        int tokens = 0;
        for (String story : stories.subList(0, 12)) {
            int[] expected = llama2cEncode(story);
            assertThat(tokenizer.encode(story, true, false)).as(story).containsExactly(expected);
            tokens += expected.length;
        }
        assertThat(tokens).isGreaterThan(1000);
    }

    @Test
    void storybooksHasTheSameTokenizer() throws IOException {
        try (var gguf = GgufFile.open(TestModels.requireShared(TestModels.STORYBOOKS))) {
            Tokenizer other = Tokenizers.fromGguf(gguf);
            assertThat(other.encode("Tom said 你好 to", true, false))
                    .containsExactly(tokenizer.encode("Tom said 你好 to", true, false));
        }
    }

    /** llama2.c's encoder: one token per character (or its bytes), then merge the best-scoring pair, rescanning. */
    static int[] llama2cEncode(String text) {
        Map<String, Integer> lookup = new HashMap<>();
        for (int id = 0; id < vocabulary.size(); id++) {
            if (vocabulary.type(id) == Vocabulary.NORMAL) {
                lookup.put(vocabulary.tokens()[id], id);
            }
        }
        var tokens = new ArrayList<Integer>();
        tokens.add(1);
        if (text.isEmpty()) {
            return new int[] {1};
        }
        tokens.add(lookup.get("\u2581"));
        String escaped = text.replace(' ', '\u2581');
        escaped.codePoints().forEach(cp -> {
            String c = Character.toString(cp);
            Integer id = lookup.get(c);
            if (id != null) {
                tokens.add(id);
            } else {
                for (byte b : c.getBytes(StandardCharsets.UTF_8)) {
                    tokens.add((b & 0xFF) + 3);
                }
            }
        });
        while (true) {
            float best = Float.NEGATIVE_INFINITY;
            int bestId = -1, bestAt = -1;
            for (int i = 1; i + 1 < tokens.size(); i++) {
                Integer merged = lookup.get(vocabulary.tokens()[tokens.get(i)] + vocabulary.tokens()[tokens.get(i + 1)]);
                if (merged != null && vocabulary.scores()[merged] > best) {
                    best = vocabulary.scores()[merged];
                    bestId = merged;
                    bestAt = i;
                }
            }
            if (bestAt < 0) {
                return tokens.stream().mapToInt(Integer::intValue).toArray();
            }
            tokens.set(bestAt, bestId);
            tokens.remove(bestAt + 1);
        }
    }
}
