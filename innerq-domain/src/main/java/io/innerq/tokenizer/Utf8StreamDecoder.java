package io.innerq.tokenizer;

import java.util.Objects;

/**
 * Turns the bytes of a token stream into text, one token at a time. Only complete UTF-8 characters are returned;
 * a partial sequence is held back until its last byte arrives. Malformed input never throws: each maximal ill-formed
 * subpart becomes one U+FFFD, as {@code new String(bytes, UTF_8)} does, so decoding a stream piece by piece gives the
 * same text as decoding all its bytes at once.
 *
 * <p>SentencePiece vocabularies start each word with a space; like llama2.c, the piece right after BOS loses that
 * space, so {@code [BOS, "▁Once", ...]} reads "Once ...".
 */
final class Utf8StreamDecoder implements TokenDecoder {

    private static final char REPLACEMENT = '\uFFFD';

    private final byte[][] pieces;          // bytes per token id [vocabularySize][pieceLength]
    private final boolean[] leadingSpace;   // per token id: a normal piece starting with ' ', or null
    private final int bos;                  // strip the leading space of the piece after this token; -1: never
    private final StringBuilder out = new StringBuilder(16);

    private int previous = -1;
    private int codePoint;   // bits gathered so far of the pending character
    private int needed;      // continuation bytes still expected (0: no pending character)
    private int lower = 0x80, upper = 0xBF; // valid range of the next continuation byte

    /**
     * @param pieces       the bytes each token stands for
     * @param bos          the BOS id after which a leading space is dropped, or -1
     * @param leadingSpace which tokens may lose their leading space after BOS (null when {@code bos} is -1)
     */
    Utf8StreamDecoder(byte[][] pieces, int bos, boolean[] leadingSpace) {
        this.pieces = Objects.requireNonNull(pieces, "pieces");
        if (bos >= 0 && (leadingSpace == null || leadingSpace.length != pieces.length)) {
            throw new IllegalArgumentException("leadingSpace must have one entry per token when bos is set");
        }
        this.bos = bos;
        this.leadingSpace = leadingSpace;
    }

    @Override
    public String next(int token) {
        if (token < 0 || token >= pieces.length) {
            throw new IllegalArgumentException("token id %d is outside the vocabulary of %d tokens"
                    .formatted(token, pieces.length));
        }
        int from = previous == bos && bos >= 0 && leadingSpace[token] ? 1 : 0;
        previous = token;
        return bytes(pieces[token], from, pieces[token].length);
    }

    /** Feeds raw bytes; returns the characters they complete. */
    String bytes(byte[] bytes, int from, int to) {
        out.setLength(0);
        for (int i = from; i < to; i++) {
            accept(bytes[i] & 0xFF);
        }
        return out.isEmpty() ? "" : out.toString();
    }

    @Override
    public String finish() {
        out.setLength(0);
        if (needed > 0) {
            out.append(REPLACEMENT);
            needed = 0;
        }
        previous = -1;
        return out.isEmpty() ? "" : out.toString();
    }

    private void accept(int b) {
        if (needed > 0) {
            if (b >= lower && b <= upper) {
                codePoint = codePoint << 6 | (b & 0x3F);
                lower = 0x80;
                upper = 0xBF;
                if (--needed == 0) {
                    out.appendCodePoint(codePoint);
                }
                return;
            }
            // The pending sequence is cut short: one U+FFFD for it, then b starts afresh.
            out.append(REPLACEMENT);
            needed = 0;
        }
        if (b < 0x80) {
            out.append((char) b);
        } else if (b >= 0xC2 && b <= 0xDF) {
            start(b & 0x1F, 1, 0x80, 0xBF);
        } else if (b >= 0xE0 && b <= 0xEF) {
            // E0: no overlong forms; ED: no surrogates
            start(b & 0x0F, 2, b == 0xE0 ? 0xA0 : 0x80, b == 0xED ? 0x9F : 0xBF);
        } else if (b >= 0xF0 && b <= 0xF4) {
            // F0: no overlong forms; F4: nothing above U+10FFFF
            start(b & 0x07, 3, b == 0xF0 ? 0x90 : 0x80, b == 0xF4 ? 0x8F : 0xBF);
        } else {
            out.append(REPLACEMENT); // stray continuation byte, C0, C1 or F5..FF
        }
    }

    private void start(int bits, int continuationBytes, int nextLower, int nextUpper) {
        codePoint = bits;
        needed = continuationBytes;
        lower = nextLower;
        upper = nextUpper;
    }
}
