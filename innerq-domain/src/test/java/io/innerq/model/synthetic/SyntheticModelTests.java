package io.innerq.model.synthetic;

import io.innerq.cache.ReferenceKvCaches;
import io.innerq.chat.ChatTemplate;
import io.innerq.gguf.GgufTensorInfo;
import io.innerq.model.LlamaConfig;
import io.innerq.model.LlamaForward;
import io.innerq.model.LlamaModel;
import io.innerq.model.RopeScaling;
import io.innerq.port.out.KvCache;
import io.innerq.port.out.KvCachePort.CacheGeometry;
import io.innerq.tensor.GgmlType;
import io.innerq.tensor.ScalarKernels;
import io.innerq.tensor.ScalarMatVec;
import io.innerq.tensor.Tensor;
import io.innerq.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class SyntheticModelTests {

    static final String TEXT = "Hello world, the quick brown fox jumps over 13 lazy dogs.\nIt's (mostly) ASCII!";

    @TempDir
    Path dir;

    private Path write(SyntheticShape shape, GgmlType type, long seed) throws IOException {
        Path file = dir.resolve("%s-%s-%d.gguf".formatted(shape.name().replaceAll("[^a-z0-9-]", "_"), type, seed));
        SyntheticModel.Written w = new SyntheticModel(shape, type, seed).write(file, false, bytes -> { });
        assertThat(w.path()).isEqualTo(file);
        assertThat(w.bytes()).isEqualTo(Files.size(file)).isEqualTo(new SyntheticModel(shape, type, seed).fileSize());
        return file;
    }

    /** Logits of {@code steps} tokens of {@code TEXT}, fed one by one. */
    private static List<float[]> logits(LlamaModel model, int steps) {
        LlamaConfig c = model.config();
        var forward = new LlamaForward(model, new ScalarMatVec());
        int[] tokens = model.tokenizer().encode(TEXT, true, false);
        var out = new ArrayList<float[]>();
        try (KvCache cache = new ReferenceKvCaches().allocate(
                new CacheGeometry(c.layers(), c.heads(), c.kvHeads(), c.headDim()), steps)) {
            for (int pos = 0; pos < steps; pos++) {
                out.add(forward.step(cache, tokens[pos], pos, true).clone());
            }
        }
        return out;
    }

    private static void assertFiniteAndSpread(List<float[]> logits, int vocabulary) {
        for (float[] l : logits) {
            assertThat(l).hasSizeGreaterThanOrEqualTo(vocabulary);
            double sum = 0;
            double squares = 0;
            for (int i = 0; i < vocabulary; i++) {
                assertThat(Float.isFinite(l[i])).as("logit %d is %s", i, l[i]).isTrue();
                sum += l[i];
                squares += (double) l[i] * l[i];
            }
            double mean = sum / vocabulary;
            double std = Math.sqrt(squares / vocabulary - mean * mean);
            assertThat(std).as("spread of the logits").isBetween(0.05, 20.0);
        }
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16", "BF16", "Q8_0", "Q4_0"})
    void tinyLoadsWithItsShapeTypesAndTokenizer(GgmlType type) throws IOException {
        SyntheticShape shape = SyntheticShape.TINY;
        try (LlamaModel model = LlamaModel.load(write(shape, type, 1))) {
            assertThat(model.config()).isEqualTo(shape.config());
            assertThat(model.weights().tiedOutput()).isTrue();
            assertThat(model.name()).isEqualTo("synthetic tiny %s seed 1".formatted(type));
            for (GgufTensorInfo t : model.gguf().tensorInfos().values()) {
                GgmlType expected = t.name().endsWith("norm.weight") ? GgmlType.F32 : type;
                assertThat(t.type()).as(t.name()).isEqualTo(expected);
            }
            assertThat(model.gguf().tensorInfos()).hasSize(2 + 9 * shape.layers());
            assertThat(model.weights().wq()[1].shape()).containsExactly(64, 64);
            assertThat(model.weights().wk()[1].shape()).containsExactly(64, 32);
            assertThat(model.weights().wDown()[0].shape()).containsExactly(128, 64);
            assertThat(model.weights().tokenEmbedding().shape()).containsExactly(64, 512);
            assertThat(model.weights().attnNorm()[0]).containsOnly(1f);

            Tokenizer tok = model.tokenizer();
            int[] ids = tok.encode(TEXT, true, false);
            assertThat(ids[0]).isEqualTo(tok.bos()).isEqualTo(512 - 11);
            assertThat(tok.decode(ids)).isEqualTo(TEXT);
            assertThat(ids.length).as("merges shorten the text").isLessThan(TEXT.length());

            assertFiniteAndSpread(logits(model, 4), shape.vocabularySize());
        }
    }

    @Test
    void sentencePieceVocabularyEncodesAnyText() throws IOException {
        SyntheticShape shape = SyntheticShape.parse("tiny:tokenizer=spm,tied=false");
        try (LlamaModel model = LlamaModel.load(write(shape, GgmlType.Q8_0, 2))) {
            assertThat(model.weights().tiedOutput()).isFalse();
            Tokenizer tok = model.tokenizer();
            assertThat(tok.bos()).isEqualTo(1);
            assertThat(tok.eos()).isEqualTo(2);
            String text = TEXT + " Tom said 你好 😀";
            int[] ids = tok.encode(text, true, false);
            assertThat(ids[0]).isEqualTo(1);
            assertThat(tok.decode(ids)).isEqualTo(text);
            assertThat(tok.piece(ids[1])).startsWith("\u2581");
            assertThat(model.chatTemplate()).isInstanceOf(ChatTemplate.Plain.class);
            assertFiniteAndSpread(logits(model, 3), shape.vocabularySize());
        }
    }

    @Test
    void llama3SizedVocabularyHasLlama3sSpecialTokensAndChatTemplate() throws IOException {
        SyntheticShape shape = SyntheticShape.parse("tiny:vocab=128256,layers=1");
        try (LlamaModel model = LlamaModel.load(write(shape, GgmlType.Q4_0, 3))) {
            Tokenizer tok = model.tokenizer();
            assertThat(tok.vocabularySize()).isEqualTo(128256);
            assertThat(tok.bos()).isEqualTo(128000);
            assertThat(tok.piece(128000)).isEqualTo("<|begin_of_text|>");
            assertThat(tok.eos()).isEqualTo(128001);
            assertThat(tok.piece(128009)).isEqualTo("<|eot_id|>");
            assertThat(tok.isEndOfGeneration(128009)).isTrue();
            assertThat(tok.piece(128255)).isEqualTo("<|reserved_special_token_247|>");
            assertThat(tok.piece(256)).isEqualTo("Ġe"); // the first merge
            String text = TEXT + " Ünïcödé ✓";
            assertThat(tok.decode(tok.encode(text, true, false))).isEqualTo(text);
            assertThat(tok.encode("<|eot_id|>", false, true)).containsExactly(128009);
            assertThat(model.chatTemplate()).isInstanceOf(ChatTemplate.Llama3.class);
            assertFiniteAndSpread(logits(model, 2), shape.vocabularySize());
        }
    }

    @Test
    void aDeepModelStaysFinite() throws IOException {
        SyntheticShape shape = SyntheticShape.parse("tiny:layers=32");
        try (LlamaModel model = LlamaModel.load(write(shape, GgmlType.Q4_0, 4))) {
            assertFiniteAndSpread(logits(model, 6), shape.vocabularySize());
        }
    }

    @Test
    void storybooksLikeRuns() throws IOException {
        SyntheticShape shape = SyntheticShape.STORYBOOKS_LIKE;
        try (LlamaModel model = LlamaModel.load(write(shape, GgmlType.F16, 5))) {
            assertThat(model.config()).isEqualTo(shape.config());
            assertThat(model.weights().tiedOutput()).isFalse();
            assertThat(model.tokenizer().decode(model.tokenizer().encode(TEXT, true, false))).isEqualTo(TEXT);
            assertFiniteAndSpread(logits(model, 2), shape.vocabularySize());
        }
    }

    @Test
    void sameSeedSameBytesOtherSeedOtherBytes() throws IOException {
        byte[] a = Files.readAllBytes(write(SyntheticShape.TINY, GgmlType.Q4_0, 11));
        Path again = dir.resolve("again.gguf");
        new SyntheticModel(SyntheticShape.TINY, GgmlType.Q4_0, 11).write(again, false, bytes -> { });
        assertThat(Files.readAllBytes(again)).isEqualTo(a);
        byte[] b = Files.readAllBytes(write(SyntheticShape.TINY, GgmlType.Q4_0, 12));
        assertThat(b).hasSameSizeAs(a).isNotEqualTo(a);
    }

    @Test
    void weightsHaveStandardDeviationOneOverRootColumnsAndEveryTypeRoundsTheSameWeights() throws IOException {
        SyntheticShape shape = SyntheticShape.TINY;
        try (LlamaModel f32 = LlamaModel.load(write(shape, GgmlType.F32, 6));
             LlamaModel q8 = LlamaModel.load(write(shape, GgmlType.Q8_0, 6))) {
            Tensor down = f32.weights().wDown()[1]; // [64 rows][128 cols]
            float[] row = new float[down.cols()];
            float[] rounded = new float[down.cols()];
            double squares = 0;
            double sum = 0;
            for (int r = 0; r < down.rows(); r++) {
                ScalarKernels.dequantizeRow(down, r, row, 0);
                ScalarKernels.dequantizeRow(q8.weights().wDown()[1], r, rounded, 0);
                for (int c = 0; c < row.length; c++) {
                    sum += row[c];
                    squares += row[c] * row[c];
                    assertThat(rounded[c]).isCloseTo(row[c], within((float) Math.sqrt(3.0 / 128) / 127 * 0.6f));
                }
            }
            long n = (long) down.rows() * down.cols();
            assertThat(Math.sqrt(squares / n)).isCloseTo(1 / Math.sqrt(128), within(0.05 / Math.sqrt(128)));
            assertThat(sum / n).isCloseTo(0, within(0.01));
        }
    }

    @Test
    void llama3RopeScalingIsWrittenAsFrequencyFactors() throws IOException {
        var scaling = new RopeScaling.Llama3(8f, 1f, 4f, 8192);
        SyntheticShape shape = new SyntheticShape("rope", 128, 1, 1, 1, 128, 64, 300, 131072, 500000f, 1e-5f,
                scaling, true, VocabularyStyle.SENTENCEPIECE);
        try (LlamaModel model = LlamaModel.load(write(shape, GgmlType.F32, 7))) {
            float[] factors = model.weights().ropeFreqFactors();
            assertThat(factors).hasSize(64);
            assertThat(factors[0]).isEqualTo(1f);
            assertThat(factors[63]).isEqualTo(8f);
            // Meta's apply_scaling on the inverse frequencies, as an independent statement of the same scaling
            for (int i = 0; i < 64; i++) {
                double freq = Math.pow(500000, -2.0 * i / 128);
                double wavelen = 2 * Math.PI / freq;
                double scaled;
                if (wavelen < 8192 / 4.0) {
                    scaled = freq;
                } else if (wavelen > 8192 / 1.0) {
                    scaled = freq / 8;
                } else {
                    double smooth = (8192 / wavelen - 1) / (4 - 1);
                    scaled = (1 - smooth) * freq / 8 + smooth * freq;
                }
                assertThat(freq / factors[i]).as("pair %d", i).isCloseTo(scaled, within(scaled * 1e-6));
            }
        }
    }

    @Test
    void llama3_8bHasTheShapeAndSizeOfTheRealModel() {
        SyntheticShape s = SyntheticShape.parse("llama3-8b");
        assertThat(s.config()).isEqualTo(new LlamaConfig("llama", 4096, 32, 32, 8, 128, 14336, 128256, 131072,
                1e-5f, 500000f, 128, new RopeScaling.Llama3(8f, 1f, 4f, 8192)));
        assertThat(s.tiedOutput()).isFalse();
        assertThat(s.parameters()).isEqualTo(8_030_261_248L);
        var model = new SyntheticModel(s, GgmlType.Q4_0, 1);
        assertThat(model.tensors()).hasSize(1 + 1 + 9 * 32 + 2);
        long weights = 0;
        for (var t : model.tensors()) {
            weights += t.type().bytesFor(t.rows() * t.cols());
        }
        assertThat(model.fileSize()).isBetween(weights, weights + (8L << 20));
        assertThat(weights).isEqualTo(8_030_261_248L / 32 * 18 - 65 * 4096 / 32 * 18 + 65 * 4096 * 4 + 64 * 4);
    }

    @Test
    void shapesParseFromPresetsWithChanges() {
        SyntheticShape s = SyntheticShape.parse("llama3-8b:layers=4,context=8192,tokenizer=spm");
        assertThat(s.layers()).isEqualTo(4);
        assertThat(s.contextLength()).isEqualTo(8192);
        assertThat(s.vocabulary()).isEqualTo(VocabularyStyle.SENTENCEPIECE);
        assertThat(s.dim()).isEqualTo(4096);
        assertThat(s.name()).isEqualTo("llama3-8b:layers=4,context=8192,tokenizer=spm");
        assertThat(SyntheticShape.TINY.withContextLength(64).contextLength()).isEqualTo(64);
        assertThat(SyntheticShape.PRESETS).containsOnlyKeys("llama3-8b", "storybooks-like", "tiny");

        assertThatThrownBy(() -> SyntheticShape.parse("llama-8b"))
                .hasMessageContaining("unknown shape 'llama-8b': the presets are llama3-8b, storybooks-like, tiny");
        assertThatThrownBy(() -> SyntheticShape.parse("tiny:depth=3"))
                .hasMessageContaining("unknown shape key 'depth': the keys are dim, layers");
        assertThatThrownBy(() -> SyntheticShape.parse("tiny:layers")).hasMessageContaining("is not key=value");
        assertThatThrownBy(() -> SyntheticShape.parse("tiny:layers=0"))
                .hasMessageContaining("layers must be a positive whole number, got '0'");
        assertThatThrownBy(() -> SyntheticShape.parse("tiny:kv-heads=3"))
                .hasMessageContaining("heads (4) must be a multiple of kv-heads (3)");
        assertThatThrownBy(() -> SyntheticShape.parse("tiny:vocab=100"))
                .hasMessageContaining("a bpe vocabulary needs at least 267 tokens, got 100");
    }

    @Test
    void typesParseByNameAndRowsMustBeWholeBlocks() {
        assertThat(SyntheticModel.parseType("q4_0")).isEqualTo(GgmlType.Q4_0);
        assertThat(SyntheticModel.parseType("F16")).isEqualTo(GgmlType.F16);
        assertThatThrownBy(() -> SyntheticModel.parseType("q4_k"))
                .hasMessageContaining("unknown weight type 'q4_k': the types are f32, f16, bf16, q8_0, q4_0");
        assertThatThrownBy(() -> new SyntheticModel(SyntheticShape.TINY, GgmlType.Q6_K, 1))
                .hasMessageContaining("weight type Q6_K is not written");
        assertThatThrownBy(() -> new SyntheticModel(SyntheticShape.parse("tiny:ffn=100"), GgmlType.Q4_0, 1))
                .hasMessageContaining("ffn = 100 is a matrix row length, and Q4_0 stores rows in blocks of 32");
        assertThat(new SyntheticModel(SyntheticShape.parse("tiny:ffn=100"), GgmlType.F16, 1).fileSize()).isPositive();
    }

    @Test
    void refusesToReplaceAFileUnlessAskedAndLeavesNoPartialFile() throws IOException {
        Path file = dir.resolve("m.gguf");
        Files.writeString(file, "keep me");
        var model = new SyntheticModel(SyntheticShape.TINY, GgmlType.Q8_0, 1);
        assertThatThrownBy(() -> model.write(file, false, b -> { })).isInstanceOf(FileAlreadyExistsException.class)
                .hasMessageContaining(file.toString());
        assertThat(Files.readString(file)).isEqualTo("keep me");

        List<Long> progress = new ArrayList<>();
        model.write(file, true, progress::add);
        assertThat(Files.size(file)).isEqualTo(model.fileSize());
        assertThat(progress).isSorted().last().isEqualTo(model.fileSize());

        Path failing = dir.resolve("failing.gguf");
        assertThatThrownBy(() -> model.write(failing, false, b -> {
            throw new IllegalStateException("stop");
        })).hasMessage("stop");
        assertThat(dir.toFile().list()).containsExactly("m.gguf");
    }
}
