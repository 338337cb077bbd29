package io.innerq.tokenizer;

import io.innerq.gguf.GgufFile;

/** Builds the tokenizer a model file describes. */
public final class Tokenizers {

    private Tokenizers() {}

    /**
     * The tokenizer embedded in a GGUF model.
     *
     * @throws IllegalArgumentException when the file has no tokenizer or one InnerQ does not support; the message
     *                                  names the file and the unsupported {@code tokenizer.ggml.model} or
     *                                  {@code tokenizer.ggml.pre}
     * @throws io.innerq.gguf.GgufFormatException when a tokenizer key holds a value of the wrong type
     */
    public static Tokenizer fromGguf(GgufFile gguf) {
        String model = gguf.string("tokenizer.ggml.model").orElse(null);
        if (model != null && !model.equals("llama") && !model.equals("gpt2")) {
            throw unsupported(gguf.source(), model);
        }
        try {
            return of(Vocabulary.fromGguf(gguf));
        } catch (IllegalArgumentException e) {
            throw e.getMessage().startsWith(gguf.source())
                    ? e : new IllegalArgumentException(gguf.source() + ": " + e.getMessage(), e);
        }
    }

    /** The tokenizer for a vocabulary, by its {@link Vocabulary#model()}. */
    public static Tokenizer of(Vocabulary vocabulary) {
        return switch (vocabulary.model()) {
            case "llama" -> new SentencePieceTokenizer(vocabulary);
            case "gpt2" -> new Gpt2Tokenizer(vocabulary, PreTokenizer.forName(vocabulary.preTokenizer()));
            default -> throw unsupported("vocabulary", vocabulary.model());
        };
    }

    private static IllegalArgumentException unsupported(String source, String model) {
        return new IllegalArgumentException(("%s: tokenizer model '%s' (tokenizer.ggml.model) is not supported;"
                + " InnerQ reads 'llama' (SentencePiece) and 'gpt2' (byte-level BPE) tokenizers").formatted(source, model));
    }
}
