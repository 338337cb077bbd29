package io.innerq.tokenizer;
// TEMP STUB - do not commit
public final class Tokenizers {
    public static Tokenizer fromGguf(io.innerq.gguf.GgufFile f) { return null; }
}
