package io.innerq.tokenizer;

import io.innerq.gguf.GgufFile;
import io.innerq.gguf.GgufFormatException;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A tokenizer vocabulary as stored in GGUF metadata ({@code tokenizer.ggml.*}). The arrays are owned by the record and
 * are not copied: callers must not modify them. Special ids are {@code -1} when the model has no such token.
 *
 * @param model          {@code tokenizer.ggml.model}: "llama" (SentencePiece) or "gpt2" (byte-level BPE)
 * @param preTokenizer   {@code tokenizer.ggml.pre}, empty when absent
 * @param tokens         piece text per id [vocabularySize]
 * @param scores         SentencePiece merge score per id [vocabularySize] (zeros when absent)
 * @param types          GGUF token type per id [vocabularySize] ({@link #NORMAL} .. {@link #BYTE})
 * @param merges         BPE merges "left right", rank = index (empty for SentencePiece)
 * @param addSpacePrefix SentencePiece dummy prefix: a space before the text and after every special token
 */
public record Vocabulary(String model, String preTokenizer, String[] tokens, float[] scores, int[] types,
                         String[] merges, int bos, int eos, int eot, int unknown, int padding,
                         boolean addBos, boolean addEos, boolean addSpacePrefix) {

    public static final int NORMAL = 1;
    public static final int UNKNOWN = 2;
    public static final int CONTROL = 3;
    public static final int USER_DEFINED = 4;
    public static final int UNUSED = 5;
    public static final int BYTE = 6;

    /** Token texts that end a turn when the file names no end-of-turn token (the list llama.cpp uses). */
    private static final List<String> END_OF_TURN_TEXTS = List.of(
            "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>", "<EOT>");

    public Vocabulary {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(preTokenizer, "preTokenizer");
        Objects.requireNonNull(tokens, "tokens");
        Objects.requireNonNull(scores, "scores");
        Objects.requireNonNull(types, "types");
        Objects.requireNonNull(merges, "merges");
        if (tokens.length == 0) {
            throw new IllegalArgumentException("the vocabulary has no tokens (tokenizer.ggml.tokens is empty)");
        }
        if (scores.length != tokens.length || types.length != tokens.length) {
            throw new IllegalArgumentException("tokenizer arrays disagree: %d tokens, %d scores, %d token types"
                    .formatted(tokens.length, scores.length, types.length));
        }
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i] == null) {
                throw new IllegalArgumentException("token " + i + " has no text");
            }
        }
        for (String merge : merges) {
            if (merge == null || merge.indexOf(' ', 1) < 0) {
                throw new IllegalArgumentException("BPE merge '" + merge + "' is not of the form 'left right'");
            }
        }
        checkId("bos", bos, tokens.length);
        checkId("eos", eos, tokens.length);
        checkId("eot", eot, tokens.length);
        checkId("unknown", unknown, tokens.length);
        checkId("padding", padding, tokens.length);
        if (addBos && bos < 0) {
            throw new IllegalArgumentException("add_bos_token is set but the vocabulary has no BOS token");
        }
    }

    private static void checkId(String name, int id, int size) {
        if (id < -1 || id >= size) {
            throw new IllegalArgumentException("%s token id %d is outside the vocabulary of %d tokens"
                    .formatted(name, id, size));
        }
    }

    /**
     * Reads the vocabulary of a GGUF model, with llama.cpp's defaults for absent keys: SentencePiece ("llama") models
     * get BOS 1, EOS 2, unknown 0, add_bos and add_space_prefix; byte-level BPE adds BOS only for the Llama 3
     * pre-tokenizer. An id of -1 or 2^32-1 (what converters write for "none") counts as absent.
     *
     * @throws GgufFormatException when a special token id lies outside the vocabulary, or a key has the wrong type
     */
    public static Vocabulary fromGguf(GgufFile gguf) {
        String model = gguf.string("tokenizer.ggml.model").orElseThrow(() -> new IllegalArgumentException(
                gguf.source() + ": no tokenizer.ggml.model: the file has no embedded tokenizer"));
        String[] tokens = gguf.stringArray("tokenizer.ggml.tokens").orElseThrow(() -> new IllegalArgumentException(
                gguf.source() + ": no tokenizer.ggml.tokens: the file has no embedded vocabulary"));
        int n = tokens.length;
        String pre = gguf.string("tokenizer.ggml.pre").orElse("");
        float[] scores = gguf.floatArray("tokenizer.ggml.scores").orElseGet(() -> new float[n]);
        int[] types = gguf.intArray("tokenizer.ggml.token_type").orElseGet(() -> {
            int[] all = new int[n];
            Arrays.fill(all, NORMAL);
            return all;
        });
        String[] merges = gguf.stringArray("tokenizer.ggml.merges").orElse(new String[0]);
        if (scores.length < n || types.length < n) {
            throw new IllegalArgumentException("%s: %d tokens but %d scores and %d token types"
                    .formatted(gguf.source(), n, scores.length, types.length));
        }
        scores = scores.length == n ? scores : Arrays.copyOf(scores, n);
        types = types.length == n ? types : Arrays.copyOf(types, n);

        boolean spm = model.equals("llama");
        boolean llama3Pre = pre.equals("llama3") || pre.equals("llama-v3") || pre.equals("llama-bpe");
        int bos = id(gguf, "tokenizer.ggml.bos_token_id", n, spm ? 1 : -1);
        int eos = id(gguf, "tokenizer.ggml.eos_token_id", n, spm ? 2 : -1);
        int unknown = id(gguf, "tokenizer.ggml.unknown_token_id", n, spm ? 0 : -1);
        int padding = id(gguf, "tokenizer.ggml.padding_token_id", n, -1);
        int eot = id(gguf, "tokenizer.ggml.eot_token_id", n, -1);
        if (eot < 0) {
            for (int i = 0; i < n && eot < 0; i++) {
                if (END_OF_TURN_TEXTS.contains(tokens[i])) {
                    eot = i;
                }
            }
        }
        boolean addBos = gguf.bool("tokenizer.ggml.add_bos_token").orElse(spm || llama3Pre) && bos >= 0;
        boolean addEos = gguf.bool("tokenizer.ggml.add_eos_token").orElse(false) && eos >= 0;
        boolean addSpacePrefix = gguf.bool("tokenizer.ggml.add_space_prefix").orElse(spm);
        return new Vocabulary(model, pre, tokens, scores, types, merges, bos, eos, eot, unknown, padding,
                addBos, addEos, addSpacePrefix);
    }

    /**
     * A special token id: {@code fallback} when the key is absent (or -1 when the vocabulary is too small for it),
     * -1 for the "none" that converters write (-1, or 2^32-1 as UINT32).
     *
     * @throws GgufFormatException for any other id outside the vocabulary
     */
    private static int id(GgufFile gguf, String key, int size, int fallback) {
        Optional<Long> value = gguf.integer(key);
        if (value.isEmpty()) {
            return fallback < size ? fallback : -1;
        }
        long id = value.get();
        if (id == -1 || id == 0xffff_ffffL) {
            return -1;
        }
        if (id < 0 || id >= size) {
            throw new GgufFormatException(gguf.source(), gguf.offsetOf(key), "metadata '" + key + "'",
                    ("is %d, outside the vocabulary of %d tokens: expected an id from 0 to %d, or -1 for none")
                            .formatted(id, size, size - 1));
        }
        return (int) id;
    }

    public int size() {
        return tokens.length;
    }

    public int type(int id) {
        return types[id];
    }
}
