package io.innerq.serving;

import io.innerq.gguf.GgufFile;
import io.innerq.model.LlamaModel;
import io.innerq.model.WeightCheck;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;

/** Where a model comes from: a GGUF file, or the default model packed in this library. */
public sealed interface ModelSource {

    /** Loads the model (mapped from its file, or read into memory), checking its norm weights. */
    default LlamaModel load() throws IOException {
        return load(WeightCheck.NORMS);
    }

    /**
     * Loads the model, checking its weights as {@code check} says.
     *
     * @throws io.innerq.gguf.GgufFormatException when the file is malformed or describes a model that cannot run
     */
    LlamaModel load(WeightCheck check) throws IOException;

    /** The GGUF container alone, for commands that read its metadata. */
    GgufFile open() throws IOException;

    /** The model's file name, e.g. {@code stories260K.gguf}. */
    String fileName();

    /** For messages: the file's path, or the embedded model's name and where it comes from. */
    String describe();

    /** A GGUF file on disk. */
    record File(Path path) implements ModelSource {
        @Override
        public LlamaModel load(WeightCheck check) throws IOException {
            return LlamaModel.load(path, check);
        }

        @Override
        public GgufFile open() throws IOException {
            return GgufFile.open(path);
        }

        @Override
        public String fileName() {
            return path.getFileName().toString();
        }

        @Override
        public String describe() {
            return path.toString();
        }
    }

    /**
     * stories260K (Andrej Karpathy's TinyStories model, MIT licensed; 1.2 MB, Llama 2 architecture), packed in this
     * jar so that a fresh install runs with nothing else. Its license is beside it: {@value #LICENSE}.
     */
    record Embedded() implements ModelSource {

        public static final String NAME = "stories260K.gguf";
        static final String RESOURCE = "models/" + NAME;
        public static final String LICENSE = "io/innerq/serving/models/LICENSE-stories260K.txt";

        @Override
        public LlamaModel load(WeightCheck check) throws IOException {
            byte[] bytes = bytes();
            return LlamaModel.read(NAME, new ByteArrayInputStream(bytes), bytes.length, check);
        }

        @Override
        public GgufFile open() throws IOException {
            byte[] bytes = bytes();
            return GgufFile.read(new ByteArrayInputStream(bytes), bytes.length, describe());
        }

        @Override
        public String fileName() {
            return NAME;
        }

        @Override
        public String describe() {
            return NAME + " (embedded default model)";
        }

        private static byte[] bytes() throws IOException {
            try (InputStream in = ModelSource.class.getResourceAsStream(RESOURCE)) {
                if (in == null) {
                    throw new IOException("the embedded model " + RESOURCE + " is missing from innerq-serving's jar: "
                            + "rebuild it, or pass a model file");
                }
                return in.readAllBytes();
            }
        }
    }
}
