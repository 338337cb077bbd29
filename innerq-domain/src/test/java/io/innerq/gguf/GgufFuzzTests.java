package io.innerq.gguf;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.innerq.tensor.Tensor;
import io.innerq.tokenizer.Tokenizer;
import io.innerq.tokenizer.Tokenizers;

import java.lang.foreign.MemorySegment;
import java.util.Map;

/**
 * Coverage-guided fuzzing of the GGUF reader: any bytes either parse, with every metadata value and tensor readable,
 * or fail with a {@link GgufFormatException}; building a tokenizer from a parsed file fails, if at all, with one of those
 * or its documented {@link IllegalArgumentException}. Anything else (an index out of bounds, a negative size, an
 * out-of-memory error, a hang) is a finding.
 *
 * <p>Seeds: {@code GgufFuzzTestsInputs/parse/} (the metadata of stories260K with one small tensor, its first 4 KB,
 * small valid and hand-broken files). Without {@code JAZZER_FUZZ} the test replays only the seeds.
 */
class GgufFuzzTests {

    @FuzzTest(maxDuration = "60s")
    void parse(byte[] bytes) {
        GgufFile file;
        try {
            file = GgufFile.parse(MemorySegment.ofArray(bytes), "fuzz.gguf");
        } catch (GgufFormatException expected) {
            return;
        }
        try {
            for (Map.Entry<String, Object> e : file.metadata().entrySet()) {
                readAsEveryType(file, e.getKey());
            }
            for (GgufTensorInfo info : file.tensorInfos().values()) {
                Tensor t = file.requireTensor(info.name());
                if (t.data().byteSize() != info.byteSize()) {
                    throw new AssertionError("tensor " + info.name() + " maps " + t.data().byteSize() + " bytes, not " + info.byteSize());
                }
                if (t.data().byteSize() > 0) {
                    t.data().get(java.lang.foreign.ValueLayout.JAVA_BYTE, t.data().byteSize() - 1);
                }
            }
        } catch (GgufFormatException expected) {
            return;
        }
        Tokenizer tokenizer;
        try {
            tokenizer = Tokenizers.fromGguf(file);
        } catch (GgufFormatException | IllegalArgumentException expected) {
            return; // a tokenizer key of the wrong type, or a vocabulary InnerQ cannot use
        }
        tokenizer.decode(tokenizer.encode("Once upon a time, 你好 <s>", true, true));
    }

    /** Each typed accessor either returns the value or fails with a GgufFormatException naming the wrong type. */
    private static void readAsEveryType(GgufFile file, String key) {
        Runnable[] reads = {
                () -> file.string(key), () -> file.integer(key), () -> file.intValue(key, 0), () -> file.number(key),
                () -> file.bool(key), () -> file.array(key), () -> file.stringArray(key), () -> file.floatArray(key),
                () -> file.intArray(key)};
        for (Runnable read : reads) {
            try {
                read.run();
            } catch (GgufFormatException expected) {
                // a value of another type
            }
        }
    }
}
