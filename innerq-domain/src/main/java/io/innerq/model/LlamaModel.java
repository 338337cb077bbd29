package io.innerq.model;

import io.innerq.chat.ChatTemplate;
import io.innerq.gguf.GgufFile;
import io.innerq.tokenizer.Tokenizer;
import io.innerq.tokenizer.Tokenizers;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Optional;

/** A loaded model: configuration, weights (mapped) and tokenizer. Owns the mapped file. */
public final class LlamaModel implements AutoCloseable {

    private final Path path; // null for a model read into memory
    private final String fileName;
    private final GgufFile gguf;
    private final LlamaConfig config;
    private final LlamaWeights weights;
    private final Tokenizer tokenizer;
    private final ChatTemplate chatTemplate;

    private LlamaModel(Path path, String fileName, GgufFile gguf) {
        this.path = path;
        this.fileName = fileName;
        this.gguf = gguf;
        this.config = LlamaConfig.from(gguf);
        this.weights = LlamaWeights.load(gguf, config);
        this.tokenizer = Tokenizers.fromGguf(gguf);
        this.chatTemplate = ChatTemplate.recognize(gguf.string("tokenizer.chat_template").orElse(null))
                .orElse(new ChatTemplate.Plain());
    }

    /** Maps and validates a GGUF model. Errors name the file and what is wrong. */
    public static LlamaModel load(Path path) throws IOException {
        return of(path, path.getFileName().toString(), GgufFile.open(path));
    }

    /**
     * Reads a GGUF model of {@code size} bytes from {@code in} into memory (for a model that is not a file, such as
     * one packed in a jar); {@code fileName} names it, as a file name would.
     */
    public static LlamaModel read(String fileName, InputStream in, long size) throws IOException {
        return of(null, fileName, GgufFile.read(in, size, fileName));
    }

    private static LlamaModel of(Path path, String fileName, GgufFile gguf) {
        try {
            return new LlamaModel(path, fileName, gguf);
        } catch (RuntimeException e) {
            gguf.close();
            throw e;
        }
    }

    /** The file the model was loaded from; empty for a model read into memory. */
    public Optional<Path> file() {
        return Optional.ofNullable(path);
    }

    /** The model file's name, e.g. {@code stories260K.gguf}. */
    public String fileName() {
        return fileName;
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
        return gguf.string("general.name").orElse(fileName);
    }

    @Override
    public void close() {
        gguf.close();
    }
}
