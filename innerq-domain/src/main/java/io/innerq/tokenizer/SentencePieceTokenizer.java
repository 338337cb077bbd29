package io.innerq.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * llama.cpp's "llama" tokenizer (SentencePiece BPE), which for these vocabularies equals llama2.c's: spaces become
 * U+2581 ('▁'), a dummy-prefix space goes before the text and after every special token (add_space_prefix), adjacent
 * pieces merge greedily by highest score, and characters with no piece fall back to their UTF-8 bytes as
 * {@code <0xXX>} tokens.
 *
 * <p>Only normal (and user-defined) pieces can be formed from text; llama.cpp would also merge into control or byte
 * pieces whose text happens to appear, SentencePiece never does. No vocabulary in use has such merges.
 */
final class SentencePieceTokenizer extends VocabularyTokenizer {

    static final char SPACE = '\u2581';

    private final int[] byteTokens = new int[256]; // <0xXX> token per byte value, or -1
    private final boolean[] leadingSpace;         // normal pieces that start with '▁' [vocabularySize]

    SentencePieceTokenizer(Vocabulary vocabulary) {
        super(vocabulary);
        Arrays.fill(byteTokens, -1);
        String[] tokens = vocabulary.tokens();
        leadingSpace = new boolean[tokens.length];
        for (int id = 0; id < tokens.length; id++) {
            if (vocabulary.type(id) == Vocabulary.BYTE) {
                byteTokens[byteOf(tokens[id])[0] & 0xFF] = id;
            }
            leadingSpace[id] = vocabulary.type(id) == Vocabulary.NORMAL && tokens[id].startsWith("\u2581");
        }
    }

    @Override
    byte[] normalBytes(String piece) {
        return piece.replace(SPACE, ' ').getBytes(StandardCharsets.UTF_8);
    }

    @Override
    void encodeText(String run, boolean afterSpecial, TokenIds out) {
        String text = (vocabulary.addSpacePrefix() && afterSpecial ? " " + run : run).replace(' ', SPACE);
        int[] ends = PairMerger.merge(text, (t, start, mid, end) -> {
            Integer id = pieces.get(t.substring(start, end));
            return id == null ? Float.NaN : vocabulary.scores()[id];
        });
        for (int i = 0, start = 0; i < ends.length; start = ends[i++]) {
            String symbol = text.substring(start, ends[i]);
            Integer id = pieces.get(symbol);
            if (id != null) {
                out.add(id);
                continue;
            }
            for (byte b : symbol.getBytes(StandardCharsets.UTF_8)) {
                int byteToken = byteTokens[b & 0xFF];
                if (byteToken < 0) {
                    byteToken = vocabulary.unknown();
                }
                if (byteToken < 0) {
                    throw new IllegalArgumentException(("cannot encode '%s': the vocabulary has no piece for it,"
                            + " no <0x%02X> byte token and no unknown token").formatted(symbol, b & 0xFF));
                }
                out.add(byteToken);
            }
        }
    }

    @Override
    public TokenDecoder newDecoder() {
        return new Utf8StreamDecoder(allTokenBytes(), vocabulary.addSpacePrefix() ? vocabulary.bos() : -1,
                leadingSpace);
    }
}
