package io.innerq.model.synthetic;

import java.util.Locale;

/** The kind of tokenizer a synthetic model embeds. */
public enum VocabularyStyle {
    /**
     * Byte-level BPE as Llama 3 ships it ({@code tokenizer.ggml.model = gpt2}, pre-tokenizer {@code llama-bpe}): 256
     * byte tokens, merged pieces with their merges, then Llama 3's special tokens; a Llama 3 chat template.
     */
    BPE("bpe"),
    /**
     * SentencePiece as Llama 2 ships it ({@code tokenizer.ggml.model = llama}): {@code <unk> <s> </s>}, 256
     * {@code <0xXX>} byte tokens, then scored pieces.
     */
    SENTENCEPIECE("spm");

    private final String shortName;

    VocabularyStyle(String shortName) {
        this.shortName = shortName;
    }

    /** {@code bpe} or {@code spm}. */
    public String shortName() {
        return shortName;
    }

    /** {@code bpe}, {@code spm} or {@code sentencepiece}, in any case. */
    public static VocabularyStyle parse(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "bpe" -> BPE;
            case "spm", "sentencepiece" -> SENTENCEPIECE;
            default -> throw new IllegalArgumentException(
                    "unknown tokenizer style '%s': use bpe or spm".formatted(name));
        };
    }
}
