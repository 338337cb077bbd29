package io.innerq.tokenizer;

/**
 * Text to token ids and back, for the vocabulary embedded in a model file.
 */
public interface Tokenizer {

    /**
     * Encodes text. Special-token text (e.g. {@code <|eot_id|>}) is recognized only when {@code parseSpecial}.
     *
     * @param addBos prepend the beginning-of-sequence token when the vocabulary has one and the model wants it
     */
    int[] encode(String text, boolean addBos, boolean parseSpecial);

    /** The raw bytes a token stands for (empty for control tokens). */
    byte[] tokenBytes(int token);

    /** A decoder that turns a stream of tokens into valid UTF-8 text, holding back incomplete characters. */
    TokenDecoder newDecoder();

    /**
     * The text of a whole token sequence, as a {@link #newDecoder() decoder} streams it: control tokens vanish, and
     * with a SentencePiece dummy prefix the piece right after BOS loses its leading space, so decoding the encoding of
     * a text gives the text back.
     */
    default String decode(int... tokens) {
        TokenDecoder decoder = newDecoder();
        var text = new StringBuilder();
        for (int token : tokens) {
            text.append(decoder.next(token));
        }
        return text.append(decoder.finish()).toString();
    }

    int vocabularySize();

    /** Beginning-of-sequence token id, or -1. */
    int bos();

    /** End-of-sequence token id, or -1. */
    int eos();

    /** Whether generating this token ends the turn (EOS, and end-of-turn tokens such as {@code <|eot_id|>}). */
    boolean isEndOfGeneration(int token);

    /** The piece as stored in the vocabulary, for diagnostics. */
    String piece(int token);
}
