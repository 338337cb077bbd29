package io.innerq.tokenizer;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.innerq.gguf.GgufFile;
import io.innerq.testing.TestModels;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Coverage-guided fuzzing of the tokenizers: stories260K's SentencePiece tokenizer (and storybooks' when present) and
 * the byte-level BPE tokenizers of {@link Gpt2TokenizerTests} (GPT-2, Llama 3 and SmolLM pre-tokenizers).
 *
 * <ul>
 *   <li>encode: any text encodes to ids inside the vocabulary, and decoding them gives the text back (for
 *       SentencePiece, with U+2581, its space marker, read as a space);</li>
 *   <li>incremental decode: any id sequence streams to well-formed text, one chunk per token; an id outside the
 *       vocabulary is refused with an {@link IllegalArgumentException} and leaves the stream usable.</li>
 * </ul>
 * Seeds: {@code TokenizerFuzzTestsInputs/<method>/}. Without {@code JAZZER_FUZZ} the tests replay only the seeds.
 */
class TokenizerFuzzTests {

    private static final List<Tokenizer> TOKENIZERS = load();

    private static List<Tokenizer> load() {
        List<Tokenizer> all = new ArrayList<>(List.of(Gpt2TokenizerTests.GPT2, Gpt2TokenizerTests.LLAMA3, Gpt2TokenizerTests.SMOLLM));
        try (var gguf = GgufFile.open(TestModels.stories260K())) {
            all.add(Tokenizers.fromGguf(gguf));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        TestModels.storybooks().ifPresent(path -> {
            try (var gguf = GgufFile.open(path)) {
                all.add(Tokenizers.fromGguf(gguf));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        return List.copyOf(all);
    }

    @FuzzTest(maxDuration = "60s")
    void encodeThenDecode(FuzzedDataProvider data) {
        Tokenizer tokenizer = TOKENIZERS.get(data.consumeInt(0, TOKENIZERS.size() - 1));
        boolean parseSpecial = data.consumeBoolean();
        // unpaired surrogates have no UTF-8 form: compare against the text as UTF-8 carries it
        String text = new String(data.consumeRemainingAsString().getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8);
        int[] ids = tokenizer.encode(text, true, parseSpecial);
        for (int id : ids) {
            if (id < 0 || id >= tokenizer.vocabularySize()) {
                throw new AssertionError("id " + id + " outside the vocabulary of " + tokenizer.vocabularySize());
            }
        }
        if (!parseSpecial) {
            String back = tokenizer.decode(ids);
            // SentencePiece writes a space as U+2581, so a U+2581 of the text decodes as a space (as in llama.cpp)
            String expected = tokenizer instanceof SentencePieceTokenizer ? text.replace('\u2581', ' ') : text;
            if (!back.equals(expected)) {
                throw new AssertionError("decode(encode(\"%s\")) = \"%s\" with %s".formatted(text, back, tokenizer.getClass().getSimpleName()));
            }
        }
    }

    @FuzzTest(maxDuration = "60s")
    void incrementalDecode(FuzzedDataProvider data) {
        Tokenizer tokenizer = TOKENIZERS.get(data.consumeInt(0, TOKENIZERS.size() - 1));
        int size = tokenizer.vocabularySize();
        TokenDecoder decoder = tokenizer.newDecoder();
        var streamed = new StringBuilder();
        List<Integer> valid = new ArrayList<>();
        while (data.remainingBytes() > 0) {
            int id = data.consumeBoolean() ? data.consumeInt(0, size - 1) : data.consumeInt();
            String chunk;
            try {
                chunk = decoder.next(id);
            } catch (IllegalArgumentException e) {
                if (id >= 0 && id < size) {
                    throw new AssertionError("a valid id " + id + " was refused", e);
                }
                continue;
            }
            if (id < 0 || id >= size) {
                throw new AssertionError("id " + id + " outside the vocabulary of " + size + " was accepted");
            }
            valid.add(id);
            checkWellFormed(chunk);
            streamed.append(chunk);
        }
        String last = decoder.finish();
        checkWellFormed(last);
        streamed.append(last);
        String whole = tokenizer.decode(valid.stream().mapToInt(Integer::intValue).toArray());
        if (!streamed.toString().equals(whole)) {
            throw new AssertionError("streamed \"%s\", decoded whole \"%s\"".formatted(streamed, whole));
        }
    }

    /** No chunk splits a character: it has no unpaired surrogate. */
    private static void checkWellFormed(String chunk) {
        for (int i = 0; i < chunk.length(); i++) {
            char c = chunk.charAt(i);
            if (Character.isHighSurrogate(c) && (i + 1 == chunk.length() || !Character.isLowSurrogate(chunk.charAt(++i)))
                    || Character.isLowSurrogate(c)) {
                throw new AssertionError("unpaired surrogate at " + i + " in \"" + chunk + "\"");
            }
        }
    }
}
