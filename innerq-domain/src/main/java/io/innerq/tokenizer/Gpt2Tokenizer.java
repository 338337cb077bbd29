package io.innerq.tokenizer;

import java.util.HashMap;
import java.util.Map;

/**
 * llama.cpp's "gpt2" tokenizer (byte-level BPE): text is split into words by the model's pre-tokenizer regexes, each
 * word's UTF-8 bytes are spelled with {@link ByteLevel}'s characters, and adjacent symbols merge by the rank of their
 * pair in {@code tokenizer.ggml.merges} (lowest first). With the Llama 3 pre-tokenizer a word that already is a
 * piece is taken whole. Control tokens are never formed from text; only {@code parseSpecial} finds them.
 */
final class Gpt2Tokenizer extends VocabularyTokenizer {

    private final PreTokenizer preTokenizer;
    private final Map<String, Integer> ranks; // "left right" -> merge rank

    Gpt2Tokenizer(Vocabulary vocabulary, PreTokenizer preTokenizer) {
        super(vocabulary);
        this.preTokenizer = preTokenizer;
        String[] merges = vocabulary.merges();
        ranks = HashMap.newHashMap(merges.length);
        for (int rank = 0; rank < merges.length; rank++) {
            ranks.putIfAbsent(merges[rank], rank);
        }
    }

    @Override
    byte[] normalBytes(String piece) {
        return ByteLevel.decode(piece);
    }

    @Override
    void encodeText(String run, boolean afterSpecial, TokenIds out) {
        var pair = new StringBuilder();
        for (String word : preTokenizer.split(run)) {
            String symbols = ByteLevel.encode(word);
            Integer whole = preTokenizer.ignoreMerges ? pieces.get(symbols) : null;
            if (whole != null) {
                out.add(whole);
                continue;
            }
            int[] ends = PairMerger.merge(symbols, (t, start, mid, end) -> {
                pair.setLength(0);
                pair.append(t, start, mid).append(' ').append(t, mid, end);
                Integer rank = ranks.get(pair.toString());
                return rank == null ? Float.NaN : -rank;
            });
            for (int i = 0, start = 0; i < ends.length; start = ends[i++]) {
                Integer id = pieces.get(symbols.substring(start, ends[i]));
                if (id != null) {
                    out.add(id);
                    continue;
                }
                // A merge the vocabulary lacks: fall back to one token per byte, dropping bytes with no token.
                for (int c = start; c < ends[i]; c++) {
                    Integer single = pieces.get(String.valueOf(symbols.charAt(c)));
                    if (single != null) {
                        out.add(single);
                    }
                }
            }
        }
    }

    @Override
    public TokenDecoder newDecoder() {
        return new Utf8StreamDecoder(allTokenBytes(), -1, null);
    }
}
