package io.innerq.model.synthetic;

import io.innerq.gguf.GgufFileWriter;
import io.innerq.gguf.GgufValue;
import io.innerq.model.RopeScaling;
import io.innerq.tensor.GgmlType;
import io.innerq.tensor.TensorEncoder;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.LongConsumer;
import java.util.stream.Collectors;

/**
 * A Llama model with random weights, written as a GGUF file that {@link io.innerq.model.LlamaModel#load} reads like
 * any other: the metadata llama.cpp writes, a {@link SyntheticVocabulary synthetic tokenizer}, and every matrix in
 * {@code type} (norms in F32, as converters write them). For benchmarks that need a model of a real shape and no
 * download; its text is meaningless.
 *
 * <p>Weights: each matrix row is uniform in {@code [-sqrt(3 / cols), sqrt(3 / cols))}, so a row has standard
 * deviation {@code 1 / sqrt(cols)} and a product of it with a unit-RMS input has about unit RMS: activations stay in
 * range through any number of layers. Norm weights are 1. A row's values depend only on the seed, the tensor's name
 * and the row, so the same seed gives the same bytes whatever the type, thread count or buffer size, and a type's
 * weights are the F32 weights rounded.
 *
 * @param seed any value; the file records it in {@code general.name}
 */
public record SyntheticModel(SyntheticShape shape, GgmlType type, long seed) {

    /** The weight types a synthetic model is written in. */
    public static final List<GgmlType> TYPES = TensorEncoder.TYPES;

    public SyntheticModel {
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(type, "type");
        if (!TYPES.contains(type)) {
            throw new IllegalArgumentException("weight type %s is not written; the types are %s"
                    .formatted(type, typeNames()));
        }
        checkRowLength(shape, type, "dim", shape.dim());
        checkRowLength(shape, type, "heads x head-dim", shape.qDim());
        checkRowLength(shape, type, "ffn", shape.ffnDim());
    }

    private static void checkRowLength(SyntheticShape shape, GgmlType type, String what, int length) {
        if (length % type.blockSize() != 0) {
            throw new IllegalArgumentException("shape '%s': %s = %d is a matrix row length, and %s stores rows in blocks of %d"
                    .formatted(shape.name(), what, length, type, type.blockSize()));
        }
    }

    /** {@code f32}, {@code q4_0}, ... in any case. */
    public static GgmlType parseType(String name) {
        for (GgmlType t : TYPES) {
            if (t.name().equalsIgnoreCase(name)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown weight type '%s': the types are %s".formatted(name, typeNames()));
    }

    private static String typeNames() {
        return TYPES.stream().map(t -> t.name().toLowerCase(Locale.ROOT)).collect(Collectors.joining(", "));
    }

    /** What {@link #write} reports. */
    public record Written(Path path, long bytes, int tensors, Duration elapsed) {
    }

    /** The file's metadata and tensor table. */
    public GgufFileWriter.Layout layout() {
        var layout = GgufFileWriter.layout();
        SyntheticShape s = shape;
        String arch = "llama";
        layout.put("general.architecture", arch)
                .put("general.name", "synthetic %s %s seed %d".formatted(s.name(), type, seed))
                .put("general.description", "random weights for benchmarks; the text it writes is meaningless")
                .put("general.file_type", GgufValue.u32(fileType(type)));
        if (type == GgmlType.Q8_0 || type == GgmlType.Q4_0) {
            layout.put("general.quantization_version", GgufValue.u32(2));
        }
        layout.put(arch + ".vocab_size", GgufValue.u32(s.vocabularySize()))
                .put(arch + ".context_length", GgufValue.u32(s.contextLength()))
                .put(arch + ".embedding_length", GgufValue.u32(s.dim()))
                .put(arch + ".block_count", GgufValue.u32(s.layers()))
                .put(arch + ".feed_forward_length", GgufValue.u32(s.ffnDim()))
                .put(arch + ".rope.dimension_count", GgufValue.u32(s.headDim()))
                .put(arch + ".rope.freq_base", GgufValue.f32(s.ropeFreqBase()))
                .put(arch + ".attention.head_count", GgufValue.u32(s.heads()))
                .put(arch + ".attention.head_count_kv", GgufValue.u32(s.kvHeads()))
                .put(arch + ".attention.key_length", GgufValue.u32(s.headDim()))
                .put(arch + ".attention.value_length", GgufValue.u32(s.headDim()))
                .put(arch + ".attention.layer_norm_rms_epsilon", GgufValue.f32(s.rmsNormEps()));
        SyntheticVocabulary.write(s.vocabulary(), s.vocabularySize(), layout);
        for (WeightFiller.Planned t : tensors()) {
            layout.tensor(t.name(), t.type(), t.shape());
        }
        return layout;
    }

    /** The size of the file {@link #write} writes. */
    public long fileSize() {
        return layout().fileSize();
    }

    /**
     * Writes the model to {@code path}: first to {@code path.partial} beside it, renamed when complete, so
     * {@code path} never holds a partial file. The partial file is deleted when the write fails, is interrupted, or
     * the JVM is stopped during it (a shutdown hook; only a SIGKILL leaves it, and the next write replaces it).
     *
     * @param replace  whether an existing {@code path} may be replaced
     * @param progress told the bytes written so far, now and then, from the calling thread
     * @throws FileAlreadyExistsException when {@code path} exists and {@code replace} is false
     * @throws IOException naming the path when the disk has no room for the file or a write fails
     */
    public Written write(Path path, boolean replace, LongConsumer progress) throws IOException {
        if (!replace && Files.exists(path)) {
            throw new FileAlreadyExistsException(path.toString(), null, "the file exists; not replacing it");
        }
        long start = System.nanoTime();
        Path partial = path.resolveSibling(path.getFileName() + ".partial");
        Files.deleteIfExists(partial);
        List<WeightFiller.Planned> tensors = tensors();
        // a JVM stopped while writing (SIGTERM, Ctrl-C, System.exit) deletes the partial file on its way out
        Thread cleanup = new Thread(() -> {
            try {
                Files.deleteIfExists(partial);
            } catch (IOException ignored) {
                // the JVM is exiting: nothing else can be done
            }
        }, "innerq-synth-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanup);
        try {
            try (GgufFileWriter out = layout().create(partial)) {
                new WeightFiller(seed).write(tensors, out, progress);
            } catch (IOException | RuntimeException | Error e) {
                try {
                    Files.deleteIfExists(partial);
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e;
            }
            if (replace) {
                Files.move(partial, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } else {
                Files.move(partial, path);
            }
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(cleanup);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running or has run
            }
        }
        return new Written(path, Files.size(path), tensors.size(), Duration.ofNanos(System.nanoTime() - start));
    }

    /** The tensors in file order: embedding, RoPE factors (Llama 3 scaling), layers, output norm, output head. */
    List<WeightFiller.Planned> tensors() {
        SyntheticShape s = shape;
        var list = new ArrayList<WeightFiller.Planned>();
        list.add(matrix("token_embd.weight", s.vocabularySize(), s.dim()));
        if (s.ropeScaling() instanceof RopeScaling.Llama3 scaling) {
            list.add(new WeightFiller.Planned("rope_freqs.weight", GgmlType.F32, new long[] {s.headDim() / 2},
                    new WeightFiller.Fill.Values(ropeFactors(s.headDim(), s.ropeFreqBase(), scaling))));
        }
        for (int l = 0; l < s.layers(); l++) {
            String p = "blk." + l + ".";
            list.add(ones(p + "attn_norm.weight", s.dim()));
            list.add(matrix(p + "attn_q.weight", s.qDim(), s.dim()));
            list.add(matrix(p + "attn_k.weight", s.kvDim(), s.dim()));
            list.add(matrix(p + "attn_v.weight", s.kvDim(), s.dim()));
            list.add(matrix(p + "attn_output.weight", s.dim(), s.qDim()));
            list.add(ones(p + "ffn_norm.weight", s.dim()));
            list.add(matrix(p + "ffn_gate.weight", s.ffnDim(), s.dim()));
            list.add(matrix(p + "ffn_up.weight", s.ffnDim(), s.dim()));
            list.add(matrix(p + "ffn_down.weight", s.dim(), s.ffnDim()));
        }
        list.add(ones("output_norm.weight", s.dim()));
        if (!s.tiedOutput()) {
            list.add(matrix("output.weight", s.vocabularySize(), s.dim()));
        }
        return list;
    }

    private WeightFiller.Planned matrix(String name, int rows, int cols) {
        return new WeightFiller.Planned(name, type, new long[] {cols, rows},
                new WeightFiller.Fill.Uniform((float) Math.sqrt(3.0 / cols)));
    }

    private static WeightFiller.Planned ones(String name, int length) {
        return new WeightFiller.Planned(name, GgmlType.F32, new long[] {length}, new WeightFiller.Fill.Ones());
    }

    /**
     * Llama 3.1's RoPE frequency factors as llama.cpp's converter writes them to {@code rope_freqs.weight}: the
     * rotation frequency of pair i is divided by factor i (1 for short wavelengths, {@code factor} for long ones, a
     * blend between).
     */
    static float[] ropeFactors(int headDim, float base, RopeScaling.Llama3 s) {
        float[] factors = new float[headDim / 2];
        double lowWavelen = s.originalContext() / s.lowFreqFactor();
        double highWavelen = s.originalContext() / s.highFreqFactor();
        for (int i = 0; i < factors.length; i++) {
            double freq = 1 / Math.pow(base, 2.0 * i / headDim);
            double wavelen = 2 * Math.PI / freq;
            if (wavelen < highWavelen) {
                factors[i] = 1;
            } else if (wavelen > lowWavelen) {
                factors[i] = s.factor();
            } else {
                double smooth = (s.originalContext() / wavelen - s.lowFreqFactor())
                        / (s.highFreqFactor() - s.lowFreqFactor());
                factors[i] = (float) (1 / ((1 - smooth) / s.factor() + smooth));
            }
        }
        return factors;
    }

    /** llama.cpp's {@code general.file_type} (llama_ftype) of a model whose matrices are all {@code type}. */
    private static int fileType(GgmlType type) {
        return switch (type) {
            case F32 -> 0;
            case F16 -> 1;
            case Q4_0 -> 2;
            case Q8_0 -> 7;
            case BF16 -> 32;
            case Q4_K, Q6_K -> throw new AssertionError(type); // not in TYPES
        };
    }
}
