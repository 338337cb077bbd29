package io.innerq.tokenizer;

/**
 * Incremental detokenizer: feed tokens one at a time, get back the text that is complete so far. A character whose
 * UTF-8 bytes span several tokens is returned once all its bytes have arrived. Not thread-safe; one per stream.
 */
public interface TokenDecoder {

    /** The text completed by this token (possibly empty). */
    String next(int token);

    /** Flushes what is held back; invalid trailing bytes become U+FFFD. */
    String finish();
}
