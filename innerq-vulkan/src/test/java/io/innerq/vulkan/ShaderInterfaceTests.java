package io.innerq.vulkan;

import io.innerq.cache.KvMode;
import io.innerq.port.out.KvCache;
import io.innerq.port.out.KvCachePort.CacheGeometry;
import io.innerq.quant.Fp16;
import io.innerq.quant.GroupQuantizer;
import io.innerq.tensor.BlockEncoder;
import io.innerq.tensor.GgmlType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Java and GLSL agree: every kernel the caches make (all modes, prompt and decode) is given as many buffers,
 * push-constant words and specialization constants as its shader declares, and the shared constants (the asymmetric
 * flag in a scale's sign bit, fp16's largest value, the token chunks of p.V) are the same numbers on both sides.
 * The caches' results are checked by the contract suite; this catches a reordered or forgotten declaration early.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ShaderInterfaceTests {

    /** The shader sources, from the module's directory (Maven) or the repository's root. */
    private static final Path GLSL = Files.isDirectory(Path.of("src/main/glsl"))
            ? Path.of("src/main/glsl") : Path.of("innerq-vulkan/src/main/glsl");
    private VulkanDevice device;
    private KernelLibrary kernels;

    @BeforeAll
    void open() {
        device = TestDevices.open();
        kernels = new KernelLibrary(device);
    }

    @AfterAll
    void close() {
        kernels.close();
        device.close();
    }

    /** The source of {@code name} (NAME.comp), or of the shader whose {@code // variant: SUFFIX = MACRO} builds it. */
    private static String source(String name) throws IOException {
        Path file = GLSL.resolve(name);
        if (!Files.exists(file)) {
            int cut = name.lastIndexOf('_');
            String base = name.substring(0, cut) + ".comp";
            String suffix = name.substring(cut + 1, name.length() - ".comp".length());
            String glsl = Files.readString(GLSL.resolve(base));
            assertThat(glsl).as("%s builds the variant %s", base, name).containsPattern("(?m)^// variant: " + suffix + " = \\w+$");
            return glsl;
        }
        return Files.readString(file);
    }

    @Test
    void everyKernelIsGivenWhatItsShaderDeclares() throws IOException {
        var port = new VulkanKvCaches(kernels);
        var g = new CacheGeometry(1, 4, 2, 128);
        var random = new SplittableRandom(3);
        for (KvMode mode : KvMode.all().stream().filter(VulkanKvCaches::serves).toList()) {
            try (KvCache cache = port.allocate(g, 300, mode)) {
                float[] k = new float[g.kvDim()];
                float[] v = new float[g.kvDim()];
                float[] q = new float[g.heads() * g.headDim()];
                float[] out = new float[q.length];
                for (int pos = 0; pos < 300; pos++) {
                    for (int i = 0; i < k.length; i++) {
                        k[i] = (float) random.nextGaussian();
                        v[i] = (float) random.nextGaussian();
                    }
                    cache.store(0, pos, k, v);
                    cache.attend(0, pos, q, out);
                    if (pos == 199) {
                        cache.endPrefill(200);
                    }
                }
            }
        }
        List<String> made = new ArrayList<>();
        for (KernelLibrary.Key key : kernels.made()) {
            String glsl = source(key.shader() + ".comp");
            made.add(key.shader());
            assertThat(bindings(glsl)).as("buffers of %s", key.shader()).isEqualTo(key.bindings());
            assertThat(pushWords(glsl)).as("push-constant words of %s", key.shader()).isEqualTo(key.pushWords());
            assertThat(specConstants(glsl)).as("specialization constants of %s", key.shader())
                    .isGreaterThanOrEqualTo(key.specCount());
        }
        assertThat(new TreeSet<>(made)).as("kernels the caches use").contains("dense_scores", "dense_values",
                "innerq_scores", "innerq_values", "innerq_quantize_keys", "innerq_quantize_values", "innerq_key_factors",
                "kivi_scores", "kivi_values", "softmax", "reduce_chunks");
        TestDevices.assertNoValidationMessages(device);
    }

    @Test
    void everyStepKernelIsGivenWhatItsShaderDeclares() throws IOException {
        List<DeviceMatrix> matrices = new ArrayList<>();
        try (var library = new KernelLibrary(device);
             var pool = new DescriptorPool(device, 16, 2);
             var act = VulkanBuffer.hostVisible(device, 4L * 8 * (256 + 2) + 64);
             var norms = VulkanBuffer.hostVisible(device, 4L * 256);
             var batch = new CommandBatch(device)) {
            var step = new StepKernels(library, null, StepKernels.Products.INTEGER);
            batch.begin();
            // one variant per shader: the types, pass sizes and x loads differ in specialization values only
            DeviceMatrix m = DeviceMatrix.upload(device, BlockEncoder.random(GgmlType.Q4_0, 2, 256, 1));
            matrices.add(m);
            step.matMul(batch, m, step.matMulSet(pool, m, act), 8, 0, 256, 8 * 256, 2);
            step.matMul(batch, m, step.matMulSet(pool, m, act), 1, 0, 256, 8 * 256, 2);
            if (device.info().integerDotProduct()) {
                var dot = new StepKernels(library, null, StepKernels.Products.INTEGER_DOT);
                dot.matMul(batch, m, dot.matMulSet(pool, m, act), 1, 0, 256, 8 * 256, 2);
            }
            step.rmsNorm(batch, step.normSet(pool, norms, act), 1, 256, 0, 256, 0, 256, 0, 1e-5f);
            step.addRmsNorm(batch, step.normSet(pool, norms, act), 1, 256, 0, 256, 512, 256, 0, 1e-5f);
            long set = step.actSet(pool, act);
            step.rope(batch, set, 1, 2, 64, 64, 0, 128, 128, 64);
            step.swiglu(batch, set, 1, 64, 0, 64, 128);
            batch.submitAndWait();
            for (KernelLibrary.Key key : library.made()) {
                String glsl = source(key.shader() + ".comp");
                assertThat(bindings(glsl)).as("buffers of %s", key.shader()).isEqualTo(key.bindings());
                assertThat(pushWords(glsl)).as("push-constant words of %s", key.shader()).isEqualTo(key.pushWords());
                assertThat(specConstants(glsl)).as("specialization constants of %s", key.shader())
                        .isGreaterThanOrEqualTo(key.specCount());
            }
            assertThat(library.made()).extracting(KernelLibrary.Key::shader)
                    .contains("matmul", "matvec_q", "rms_norm", "rope", "swiglu");
        } finally {
            matrices.forEach(DeviceMatrix::close);
        }
        TestDevices.assertNoValidationMessages(device);
    }

    @Test
    void sharedConstantsAreTheSameNumbers() throws IOException {
        String common = source("common.glsl");
        assertThat(uintConstant(common, "ASYMMETRIC_FLAG")).isEqualTo(GroupQuantizer.ASYMMETRIC_FLAG & 0xFFFF);
        assertThat(Float.parseFloat(match(common, "const float FP16_MAX = ([0-9.]+);"))).isEqualTo(Fp16.MAX);
        assertThat(uintConstant(source("dense_values.comp"), "CHUNK")).isEqualTo(VulkanKvCache.DENSE_CHUNK);
        assertThat(uintConstant(source("innerq_values.comp"), "CHUNK")).isEqualTo(VulkanInnerqKvCache.VALUE_CHUNK);
        assertThat(uintConstant(source("innerq_values.comp"), "FP_CHUNK")).isEqualTo(VulkanInnerqKvCache.FP_CHUNK);
    }

    private static int bindings(String glsl) {
        var set = new TreeSet<Integer>();
        Matcher m = Pattern.compile("binding = (\\d+)").matcher(glsl);
        while (m.find()) {
            set.add(Integer.parseInt(m.group(1)));
        }
        return set.size();
    }

    private static int pushWords(String glsl) {
        String block = match(glsl, "(?s)uniform Push \\{(.*?)\\} pc;");
        return (int) Pattern.compile("\\b(uint|float|int) \\w+;").matcher(block).results().count();
    }

    private static int specConstants(String glsl) {
        return (int) Pattern.compile("constant_id = \\d+").matcher(glsl).results().count();
    }

    private static int uintConstant(String glsl, String name) {
        String text = match(glsl, "const uint " + name + " = (0x[0-9A-Fa-f]+|\\d+)u?;");
        return text.startsWith("0x") ? Integer.parseInt(text.substring(2), 16) : Integer.parseInt(text);
    }

    private static String match(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        assertThat(m.find()).as("/%s/ in the shader source", regex).isTrue();
        return m.group(1);
    }
}
