package io.innerq.model;

import io.innerq.gguf.GgufFormatException;
import io.innerq.gguf.GgufValue;
import io.innerq.testing.GgufEdit;
import io.innerq.testing.TestModels;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * Models that parse but are wrong inside are refused at load, before any large allocation, with a
 * {@link GgufFormatException} that names the key or tensor, its value and what was expected. Each case is stories260K
 * (dim 64, 5 layers, 8 heads, 4 KV heads, head_dim 8, FFN 172, 512 tokens) with one thing broken.
 */
class ModelValidationTests {

    static final String SOURCE = "edited.gguf";

    static GgufEdit stories() {
        return GgufEdit.of(TestModels.stories260K());
    }

    static LlamaModel read(byte[] bytes, WeightCheck check) throws IOException {
        return LlamaModel.read(SOURCE, new ByteArrayInputStream(bytes), bytes.length, check);
    }

    /** The refusal of {@code bytes}; anything else (success, another exception, an error) fails the test. */
    static GgufFormatException refusal(byte[] bytes, WeightCheck check) {
        try (LlamaModel ignored = read(bytes, check)) {
            throw new AssertionError("the model loaded");
        } catch (GgufFormatException e) {
            return e;
        } catch (Throwable t) {
            throw new AssertionError("expected a GgufFormatException, got " + t, t);
        }
    }

    /** A tokenizer of {@code n} tokens: stories260K's first ones, then made-up ones. */
    static GgufEdit withTokens(int n) {
        GgufEdit e = stories();
        String[] tokens = (String[]) ((GgufValue.Arr) e.get("tokenizer.ggml.tokens")).array().values();
        String[] resized = Arrays.copyOf(tokens, n);
        for (int i = tokens.length; i < n; i++) {
            resized[i] = "<extra" + i + ">";
        }
        int[] types = new int[n];
        Arrays.fill(types, 1);
        return e.set("tokenizer.ggml.tokens", GgufEdit.strings(resized))
                .set("tokenizer.ggml.scores", GgufValue.floats(new float[n]))
                .set("tokenizer.ggml.token_type", GgufValue.ints(types));
    }

    record Case(UnaryOperator<GgufEdit> edit, String field, String[] message) {
    }

    static Arguments refused(String name, UnaryOperator<GgufEdit> edit, String field, String... message) {
        return Arguments.of(Named.of(name, new Case(edit, field, message)));
    }

    static GgufValue u32(long v) {
        return GgufValue.u32(v);
    }

    static Stream<Arguments> brokenModels() {
        long max = Integer.MAX_VALUE;
        return Stream.of(
                refused("more tokens than embedding rows", e -> withTokens(600), "metadata 'tokenizer.ggml.tokens'",
                        "has 600 tokens, but token_embd.weight has 512 rows", "expected 512 tokens"),
                refused("fewer tokens than embedding rows", e -> withTokens(300), "metadata 'tokenizer.ggml.tokens'",
                        "has 300 tokens, but token_embd.weight has 512 rows"),
                refused("block_count 2^31-1", e -> e.set("llama.block_count", u32(max)), "metadata 'llama.block_count'",
                        "is 2147483647, but the file holds the tensors of 5 layers (blk.0 to blk.4): expected 5",
                        "2147483647 layers like blk.0 would need", "TiB of weights, the file has 1.1 MiB"),
                refused("block_count 4 of 5", e -> e.set("llama.block_count", u32(4)), "metadata 'llama.block_count'",
                        "is 4, but the file holds the tensors of 5 layers", "expected 5"),
                refused("a layer missing", e -> e.set("llama.block_count", u32(4)).removeTensor("blk.2.attn_norm.weight")
                                .removeTensor("blk.2.attn_q.weight").removeTensor("blk.2.attn_k.weight")
                                .removeTensor("blk.2.attn_v.weight").removeTensor("blk.2.attn_output.weight")
                                .removeTensor("blk.2.ffn_norm.weight").removeTensor("blk.2.ffn_gate.weight")
                                .removeTensor("blk.2.ffn_up.weight").removeTensor("blk.2.ffn_down.weight"),
                        "metadata 'llama.block_count'", "tensors of 4 layer numbers between 0 and 4, not 0 to 3"),
                refused("embedding_length 65", e -> e.set("llama.embedding_length", u32(65)),
                        "metadata 'llama.embedding_length'",
                        "is 65, but the rows of token_embd.weight (shape [64, 512]) have 64 elements: expected 64"),
                refused("embedding_length 2^31-1", e -> e.set("llama.embedding_length", u32(max)),
                        "metadata 'llama.embedding_length'", "is 2147483647", "expected 64"),
                refused("head_count 7", e -> e.set("llama.attention.head_count", u32(7)),
                        "metadata 'llama.attention.head_count'", "is 7, which does not divide the embedding length 64"),
                refused("head_count 2^31-1", e -> e.set("llama.attention.head_count", u32(max)),
                        "metadata 'llama.attention.head_count'", "does not divide the embedding length 64"),
                refused("head_count 16", e -> e.set("llama.attention.head_count", u32(16)),
                        "metadata 'llama.attention.head_count_kv'",
                        "head_count_kv 4 x head_dim 4 (64 / 16) = 16 rows for blk.0.attn_k.weight, but it has 32"),
                refused("head_count_kv 3", e -> e.set("llama.attention.head_count_kv", u32(3)),
                        "metadata 'llama.attention.head_count_kv'", "is 3, but head_count is 8: expected a divisor of 8"),
                refused("head_count_kv 2^31-1", e -> e.set("llama.attention.head_count_kv", u32(max)),
                        "metadata 'llama.attention.head_count_kv'", "is 2147483647", "expected a divisor of 8"),
                refused("key_length 2^31-1", e -> e.set("llama.attention.key_length", u32(max)),
                        "metadata 'llama.attention.key_length'",
                        "head_count 8 x key_length 2147483647 = 17179869176 rows for blk.0.attn_q.weight, but it has 64",
                        "a matrix that size would need 4.0 TiB, the file has 1.1 MiB"),
                refused("value_length 16", e -> e.set("llama.attention.value_length", u32(16)),
                        "metadata 'llama.attention.value_length'", "is 16, but the key length (head_dim) is 8"),
                refused("feed_forward_length 2^31-1", e -> e.set("llama.feed_forward_length", u32(max)),
                        "metadata 'llama.feed_forward_length'",
                        "feed_forward_length = 2147483647 rows for blk.0.ffn_gate.weight, but it has 172",
                        "expected the metadata to imply 172", "would need 512.0 GiB"),
                refused("context_length 2^31-1", e -> e.set("llama.context_length", u32(max)),
                        "metadata 'llama.context_length'", "is 2147483647: expected at most 16777216"),
                refused("context_length 0", e -> e.set("llama.context_length", u32(0)),
                        "metadata 'llama.context_length'", "must be between 1 and 2147483647, found 0"),
                refused("rope.dimension_count 7", e -> e.set("llama.rope.dimension_count", u32(7)),
                        "metadata 'llama.rope.dimension_count'", "is 7: expected an even number of at most head_dim 8"),
                refused("rope.freq_base 0", e -> e.set("llama.rope.freq_base", GgufValue.f32(0)),
                        "metadata 'llama.rope.freq_base'", "is 0.0: expected a finite number above 0"),
                refused("rope.freq_base -10000", e -> e.set("llama.rope.freq_base", GgufValue.f32(-10000)),
                        "metadata 'llama.rope.freq_base'", "is -10000.0"),
                refused("rope.freq_base NaN", e -> e.set("llama.rope.freq_base", GgufValue.f32(Float.NaN)),
                        "metadata 'llama.rope.freq_base'", "is NaN"),
                refused("rope.freq_base infinite", e -> e.set("llama.rope.freq_base", GgufValue.f64(1e300)),
                        "metadata 'llama.rope.freq_base'", "is Infinity"),
                refused("layer_norm_rms_epsilon -1e-5", e -> e.set("llama.attention.layer_norm_rms_epsilon",
                                GgufValue.f32(-1e-5f)), "metadata 'llama.attention.layer_norm_rms_epsilon'",
                        "is -1.0E-5: expected a finite number of at least 0"),
                refused("layer_norm_rms_epsilon NaN", e -> e.set("llama.attention.layer_norm_rms_epsilon",
                        GgufValue.f32(Float.NaN)), "metadata 'llama.attention.layer_norm_rms_epsilon'", "is NaN"),
                refused("linear RoPE scaling of factor 0", e -> e.set("llama.rope.scaling.type", GgufValue.string("linear"))
                                .set("llama.rope.scaling.factor", GgufValue.f32(0)),
                        "metadata 'llama.rope.scaling.factor'", "is 0.0: expected a finite number above 0"),
                refused("Llama 3 RoPE scaling with high <= low", e -> e.set("llama.rope.scaling.type",
                                GgufValue.string("llama3")).set("llama.rope.scaling.factor", GgufValue.f32(8))
                                .set("llama.rope.scaling.low_freq_factor", GgufValue.f32(4))
                                .set("llama.rope.scaling.high_freq_factor", GgufValue.f32(1)),
                        "metadata 'llama.rope.scaling.high_freq_factor'", "is 1.0: expected more than low_freq_factor 4.0"),
                refused("bos_token_id 9999", e -> e.set("tokenizer.ggml.bos_token_id", u32(9999)),
                        "metadata 'tokenizer.ggml.bos_token_id'",
                        "is 9999, outside the vocabulary of 512 tokens: expected an id from 0 to 511, or -1 for none"),
                refused("eos_token_id 512", e -> e.set("tokenizer.ggml.eos_token_id", u32(512)),
                        "metadata 'tokenizer.ggml.eos_token_id'", "is 512, outside the vocabulary of 512 tokens"),
                refused("unknown_token_id -7", e -> e.set("tokenizer.ggml.unknown_token_id", GgufValue.i32(-7)),
                        "metadata 'tokenizer.ggml.unknown_token_id'", "is -7"),
                refused("a NaN norm weight", e -> e.f32("blk.0.attn_norm.weight", 3, Float.NaN),
                        "tensor 'blk.0.attn_norm.weight'", "element 3 is NaN: expected a finite weight"),
                refused("an infinite output norm weight", e -> e.f32("output_norm.weight", 63, Float.NEGATIVE_INFINITY),
                        "tensor 'output_norm.weight'", "element 63 is -Infinity"),
                refused("an FFN norm of another length", e -> e.tensor("blk.4.ffn_norm.weight",
                                e.tensor("blk.4.ffn_norm.weight").type(), new long[] {32}, new byte[128]),
                        "tensor 'blk.4.ffn_norm.weight'", "shape [32] does not match the model's metadata, which implies [64]"),
                refused("an unsupported tokenizer", e -> e.set("tokenizer.ggml.model", GgufValue.string("bert")),
                        "metadata 'tokenizer.ggml.model'", "tokenizer model 'bert' (tokenizer.ggml.model) is not supported"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("brokenModels")
    void aBrokenModelIsRefusedNamingTheFieldItsValueAndWhatWasExpected(Case c) {
        GgufFormatException e = refusal(c.edit.apply(stories()).toBytes(), WeightCheck.NORMS);
        assertThat(e.field()).as(e.getMessage()).isEqualTo(c.field);
        assertThat(e.getMessage()).startsWith(SOURCE + ": at byte " + e.offset() + ", " + c.field + ": ")
                .contains(c.message);
        assertThat(e.offset()).as("the byte of the key or tensor").isPositive();
    }

    @Test
    void noneIdsAndTheUntouchedModelLoad() throws IOException {
        try (LlamaModel m = read(stories().toBytes(), WeightCheck.ALL)) {
            assertThat(m.config().layers()).isEqualTo(5);
            assertThat(m.tokenizer().bos()).isEqualTo(1);
        }
        // converters write -1 or 2^32-1 for "no such token"
        byte[] none = stories().set("tokenizer.ggml.padding_token_id", u32(0xffff_ffffL))
                .set("tokenizer.ggml.eot_token_id", GgufValue.i32(-1)).toBytes();
        try (LlamaModel m = read(none, WeightCheck.NORMS)) {
            assertThat(m.tokenizer().vocabularySize()).isEqualTo(512);
        }
    }

    @Test
    void aNaNMatrixWeightIsFoundByTheFullCheckAtItsByte() throws IOException {
        // blk.3.ffn_up.weight: F32 [64 cols, 172 rows]; row 100, column 17
        int index = 100 * 64 + 17;
        byte[] bytes = stories().f32("blk.3.ffn_up.weight", index, Float.NaN).toBytes();
        try (LlamaModel m = read(bytes, WeightCheck.NORMS)) {
            assertThat(m.config().ffnDim()).isEqualTo(172); // the default check reads the norms only
        }
        GgufFormatException e = refusal(bytes, WeightCheck.ALL);
        assertThat(e.field()).isEqualTo("tensor 'blk.3.ffn_up.weight'");
        assertThat(e.getMessage()).contains("row 100, column 17 is NaN: expected a finite weight");
        float atOffset = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getFloat((int) e.offset());
        assertThat(atOffset).as("the weight at the reported byte").isNaN();
    }

    @Test
    void anInfiniteEmbeddingWeightIsFoundByTheFullCheck() {
        byte[] bytes = stories().f32("token_embd.weight", 511 * 64 + 63, Float.POSITIVE_INFINITY).toBytes();
        GgufFormatException e = refusal(bytes, WeightCheck.ALL);
        assertThat(e.field()).isEqualTo("tensor 'token_embd.weight'");
        assertThat(e.getMessage()).contains("row 511, column 63 is Infinity");
    }
}
