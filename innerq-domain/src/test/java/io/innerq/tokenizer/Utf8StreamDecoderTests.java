package io.innerq.tokenizer;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class Utf8StreamDecoderTests {

    /** A decoder whose token i stands for {@code pieces[i]}. */
    private static Utf8StreamDecoder decoder(byte[]... pieces) {
        return new Utf8StreamDecoder(pieces, -1, null);
    }

    private static byte[] bytes(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            b[i] = (byte) values[i];
        }
        return b;
    }

    @Test
    void holdsBackAFourByteEmojiUntilItsLastByte() {
        var d = decoder(bytes(0xF0), bytes(0x9F), bytes(0x98), bytes(0x80));
        assertThat(d.next(0)).isEmpty();
        assertThat(d.next(1)).isEmpty();
        assertThat(d.next(2)).isEmpty();
        assertThat(d.next(3)).isEqualTo("😀");
        assertThat(d.finish()).isEmpty();
    }

    @Test
    void joinsACjkCharacterSplitAcrossTokensWithText() {
        // "a你" + "b": 你 is E4 BD A0, split as [a E4] [BD] [A0 b]
        var d = decoder(bytes('a', 0xE4), bytes(0xBD), bytes(0xA0, 'b'));
        assertThat(d.next(0)).isEqualTo("a");
        assertThat(d.next(1)).isEmpty();
        assertThat(d.next(2)).isEqualTo("你b");
    }

    @Test
    void invalidBytesBecomeReplacementCharacters() {
        var d = decoder(bytes(0xFF), bytes(0xE4, 'A'), bytes(0x80), bytes(0xC0, 0xAF), bytes(0xED, 0xA0, 0x80));
        assertThat(d.next(0)).isEqualTo("\uFFFD");
        assertThat(d.next(1)).isEqualTo("\uFFFDA");       // cut-short sequence, then the ASCII byte itself
        assertThat(d.next(2)).isEqualTo("\uFFFD");        // stray continuation byte
        assertThat(d.next(3)).isEqualTo("\uFFFD\uFFFD");  // overlong encoding
        assertThat(d.next(4)).isEqualTo("\uFFFD\uFFFD\uFFFD"); // UTF-16 surrogate
    }

    @Test
    void finishFlushesAnIncompleteCharacter() {
        var d = decoder(bytes(0xE4, 0xBD), bytes('x'));
        assertThat(d.next(0)).isEmpty();
        assertThat(d.finish()).isEqualTo("\uFFFD");
        assertThat(d.next(1)).isEqualTo("x");
        assertThat(d.finish()).isEmpty();
    }

    @Test
    void streamingEqualsDecodingEverythingAtOnce() {
        var random = new Random(20240611);
        String[] samples = {"a", "é", "你", "😀", "\u0000", "\uFFFD", "𝄞"};
        for (int round = 0; round < 2000; round++) {
            // Mostly valid UTF-8 with random bytes sprinkled in, cut into random pieces.
            var all = new java.io.ByteArrayOutputStream();
            int parts = 1 + random.nextInt(12);
            for (int p = 0; p < parts; p++) {
                if (random.nextInt(4) == 0) {
                    all.write(random.nextInt(256));
                } else {
                    all.writeBytes(samples[random.nextInt(samples.length)].getBytes(StandardCharsets.UTF_8));
                }
            }
            byte[] text = all.toByteArray();
            int pieceCount = 1 + random.nextInt(text.length);
            byte[][] pieces = new byte[pieceCount][];
            int from = 0;
            for (int i = 0; i < pieceCount; i++) {
                int to = i == pieceCount - 1 ? text.length : from + random.nextInt(text.length - from + 1);
                pieces[i] = java.util.Arrays.copyOfRange(text, from, to);
                from = to;
            }
            var d = new Utf8StreamDecoder(pieces, -1, null);
            var streamed = new StringBuilder();
            for (int i = 0; i < pieceCount; i++) {
                streamed.append(d.next(i));
            }
            streamed.append(d.finish());
            assertThat(streamed.toString()).as("bytes %s", java.util.HexFormat.of().formatHex(text))
                    .isEqualTo(new String(text, StandardCharsets.UTF_8));
        }
    }

    @Test
    void dropsTheLeadingSpaceOfThePieceAfterBos() {
        byte[][] pieces = {bytes(), bytes(' ', 'O'), bytes(' ', 'u')};
        var d = new Utf8StreamDecoder(pieces, 0, new boolean[] {false, true, true});
        assertThat(d.next(0)).isEmpty();
        assertThat(d.next(1)).isEqualTo("O");
        assertThat(d.next(2)).isEqualTo(" u");
        assertThat(d.next(0)).isEmpty();
        assertThat(d.next(2)).isEqualTo("u");
    }
}
