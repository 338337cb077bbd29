package io.innerq.model;

import io.innerq.chat.ChatTemplate;
import io.innerq.gguf.GgufFile;
import io.innerq.tokenizer.Tokenizer;
import io.innerq.tokenizer.Tokenizers;

import java.io.IOException;
import java.nio.file.Path;

/** A loaded model: configuration, weights (mapped) and tokenizer. Owns the mapped file. */
public final class LlamaModel implements AutoCloseable {

    private final Path path;
    private final GgufFile gguf;
    private final LlamaConfig config;
    private final LlamaWeights weights;
    private final Tokenizer tokenizer;
    private final ChatTemplate chatTemplate;

    private LlamaModel(Path path, GgufFile gguf) {
        this.path = path;
        this.gguf = gguf;
        this.config = LlamaConfig.from(gguf);
        this.weights = LlamaWeights.load(gguf, config);
        this.tokenizer = Tokenizers.fromGguf(gguf);
        this.chatTemplate = ChatTemplate.recognize(gguf.string("tokenizer.chat_template").orElse(null))
                .orElse(new ChatTemplate.Plain());
    }

    /** Maps and validates a GGUF model. Errors name the file and what is wrong. */
    public static LlamaModel load(Path path) throws IOException {
        GgufFile gguf = GgufFile.open(path);
        try {
            return new LlamaModel(path, gguf);
        } catch (RuntimeException e) {
            gguf.close();
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    public GgufFile gguf() {
        return gguf;
    }

    public LlamaConfig config() {
        return config;
    }

    public LlamaWeights weights() {
        return weights;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /**
     * The chat format, recognized from {@code tokenizer.chat_template}; {@link ChatTemplate.Plain} for base models
     * and for templates of a family InnerQ does not know.
     */
    public ChatTemplate chatTemplate() {
        return chatTemplate;
    }

    /** A display name: {@code general.name}, else the file name. */
    public String name() {
        return gguf.string("general.name").orElse(path.getFileName().toString());
    }

    @Override
    public void close() {
        gguf.close();
    }
}
