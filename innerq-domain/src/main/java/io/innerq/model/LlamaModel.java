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

    private LlamaModel(Path path, String fileName, GgufFile gguf, WeightCheck check) {
        this.path = path;
        this.fileName = fileName;
        this.gguf = gguf;
        this.config = LlamaConfig.from(gguf);
        this.weights = LlamaWeights.load(gguf, config);
        if (check == WeightCheck.ALL) {
            weights.requireFinite(gguf);
        }
        this.tokenizer = tokenizer(gguf, config);
        this.chatTemplate = ChatTemplate.recognize(gguf.string("tokenizer.chat_template").orElse(null))
                .orElse(new ChatTemplate.Plain());
    }

    /**
     * The file's tokenizer, which must have a token for every row of the embedding and no more (a token without a
     * row cannot be fed to the model; a row without a token could be sampled and not written).
     */
    private static Tokenizer tokenizer(GgufFile gguf, LlamaConfig config) {
        var check = new ModelCheck(gguf);
        String tokensKey = "tokenizer.ggml.tokens";
        int tokens = gguf.stringArray(tokensKey).map(t -> t.length).orElse(-1);
        if (tokens >= 0 && tokens != config.vocabularySize()) {
            throw check.metadata(tokensKey, ("has %d tokens, but token_embd.weight has %d rows, one per token: expected"
                    + " %d tokens; the tokenizer and the embedding disagree").formatted(tokens, config.vocabularySize(),
                    config.vocabularySize()));
        }
        try {
            return Tokenizers.fromGguf(gguf);
        } catch (IllegalArgumentException e) {
            String message = e.getMessage().startsWith(gguf.source() + ": ")
                    ? e.getMessage().substring(gguf.source().length() + 2) : e.getMessage();
            throw check.metadata("tokenizer.ggml.model", message);
        }
    }

    /**
     * Maps and validates a GGUF model, checking the norm weights ({@link WeightCheck#NORMS}).
     *
     * @throws GgufFormatException when the file is malformed or describes a model that cannot run; the message
     *                             names the file, the byte, the key or tensor, its value and what was expected
     */
    public static LlamaModel load(Path path) throws IOException {
        return load(path, WeightCheck.NORMS);
    }

    /** As {@link #load(Path)}, checking the weights as {@code check} says. */
    public static LlamaModel load(Path path, WeightCheck check) throws IOException {
        return of(path, path.getFileName().toString(), GgufFile.open(path), check);
    }

    /**
     * Reads a GGUF model of {@code size} bytes from {@code in} into memory (for a model that is not a file, such as
     * one packed in a jar); {@code fileName} names it, as a file name would. Errors as for {@link #load(Path)}.
     */
    public static LlamaModel read(String fileName, InputStream in, long size) throws IOException {
        return read(fileName, in, size, WeightCheck.NORMS);
    }

    /** As {@link #read(String, InputStream, long)}, checking the weights as {@code check} says. */
    public static LlamaModel read(String fileName, InputStream in, long size, WeightCheck check) throws IOException {
        return of(null, fileName, GgufFile.read(in, size, fileName), check);
    }

    private static LlamaModel of(Path path, String fileName, GgufFile gguf, WeightCheck check) {
        try {
            return new LlamaModel(path, fileName, gguf, check);
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
