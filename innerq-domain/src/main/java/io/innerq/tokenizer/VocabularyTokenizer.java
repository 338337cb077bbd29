package io.innerq.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * What SentencePiece and byte-level BPE share: the piece lookup, special-token splitting, BOS handling, the
 * end-of-generation set and streaming detokenization from per-token bytes computed once.
 */
abstract sealed class VocabularyTokenizer implements Tokenizer permits SentencePieceTokenizer, Gpt2Tokenizer {

    /** Token texts that end generation besides EOS and EOT (llama.cpp's list, minus model-specific oddities). */
    private static final Set<String> END_OF_GENERATION_TEXTS = Set.of(
            "<|eot_id|>", "<|eom_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
            "<|end_of_text|>", "<EOT>");

    final Vocabulary vocabulary;
    /** Pieces that plain text may turn into: normal and user-defined tokens, never control tokens. */
    final Map<String, Integer> pieces;
    private final SpecialTokens withSpecial;     // control, unknown and user-defined tokens
    private final SpecialTokens withoutSpecial;  // user-defined tokens only: matched even without parseSpecial
    private final byte[][] bytes;                // what each token decodes to [vocabularySize][pieceLength]
    private final boolean[] endOfGeneration;     // [vocabularySize]

    VocabularyTokenizer(Vocabulary vocabulary) {
        this.vocabulary = vocabulary;
        int n = vocabulary.size();
        String[] tokens = vocabulary.tokens();
        pieces = HashMap.newHashMap(n);
        var seen = HashMap.<String, Integer>newHashMap(n);
        for (int id = 0; id < n; id++) {
            Integer other = seen.putIfAbsent(tokens[id], id);
            if (other != null) {
                throw new IllegalArgumentException("duplicate token in the vocabulary: '%s' has ids %d and %d"
                        .formatted(tokens[id], other, id));
            }
            int type = vocabulary.type(id);
            if ((type == Vocabulary.NORMAL || type == Vocabulary.USER_DEFINED) && !tokens[id].isEmpty()) {
                pieces.put(tokens[id], id);
            }
        }
        withSpecial = new SpecialTokens(vocabulary, id -> {
            int type = vocabulary.type(id);
            return type == Vocabulary.CONTROL || type == Vocabulary.UNKNOWN || type == Vocabulary.USER_DEFINED;
        });
        withoutSpecial = new SpecialTokens(vocabulary, id -> vocabulary.type(id) == Vocabulary.USER_DEFINED);
        bytes = new byte[n][];
        endOfGeneration = new boolean[n];
        for (int id = 0; id < n; id++) {
            bytes[id] = switch (vocabulary.type(id)) {
                case Vocabulary.NORMAL -> normalBytes(tokens[id]);
                case Vocabulary.USER_DEFINED -> tokens[id].getBytes(StandardCharsets.UTF_8);
                case Vocabulary.BYTE -> byteOf(tokens[id]);
                default -> new byte[0]; // control, unknown, unused: not text
            };
            endOfGeneration[id] = END_OF_GENERATION_TEXTS.contains(tokens[id]);
        }
        for (int id : new int[] {vocabulary.eos(), vocabulary.eot()}) {
            if (id >= 0) {
                endOfGeneration[id] = true;
            }
        }
    }

    /** The bytes a normal piece stands for. */
    abstract byte[] normalBytes(String piece);

    /** Encodes one run of text that holds no special token. */
    abstract void encodeText(String text, boolean afterSpecial, TokenIds out);

    /** The byte of a {@code <0xXX>} piece. */
    static byte[] byteOf(String piece) {
        if (piece.length() != 6 || !piece.startsWith("<0x") || piece.charAt(5) != '>') {
            throw new IllegalArgumentException("byte token '" + piece + "' is not of the form <0xXX>");
        }
        return new byte[] {(byte) Integer.parseInt(piece, 3, 5, 16)};
    }

    @Override
    public int[] encode(String text, boolean addBos, boolean parseSpecial) {
        var out = new TokenIds();
        if (addBos && vocabulary.addBos()) {
            out.add(vocabulary.bos());
        }
        (parseSpecial ? withSpecial : withoutSpecial).split(text, new SpecialTokens.Sink() {
            boolean afterSpecial = true; // the start of the text counts as following a special token

            @Override
            public void text(String run) {
                encodeText(run, afterSpecial, out);
                afterSpecial = false;
            }

            @Override
            public void token(int id) {
                out.add(id);
                afterSpecial = true;
            }
        });
        return out.toArray();
    }

    @Override
    public byte[] tokenBytes(int token) {
        return bytes[checked(token)].clone();
    }

    /** The decoded bytes of every token, shared: callers must not modify them. */
    byte[][] allTokenBytes() {
        return bytes;
    }

    @Override
    public int vocabularySize() {
        return vocabulary.size();
    }

    @Override
    public int bos() {
        return vocabulary.bos();
    }

    @Override
    public int eos() {
        return vocabulary.eos();
    }

    @Override
    public boolean isEndOfGeneration(int token) {
        return token >= 0 && token < endOfGeneration.length && endOfGeneration[token];
    }

    @Override
    public String piece(int token) {
        return vocabulary.tokens()[checked(token)];
    }

    int checked(int token) {
        if (token < 0 || token >= vocabulary.size()) {
            throw new IllegalArgumentException("token id %d is outside the vocabulary of %d tokens"
                    .formatted(token, vocabulary.size()));
        }
        return token;
    }
}
