package io.innerq.model;

import io.innerq.gguf.GgufFile;

/** How RoPE's rotation frequencies are adjusted for long contexts. */
public sealed interface RopeScaling {

    /** Plain RoPE. */
    record None() implements RopeScaling {
    }

    /** Positions divided by {@code factor}. */
    record Linear(float factor) implements RopeScaling {
    }

    /**
     * Llama 3.1's frequency-dependent scaling: low frequencies divided by {@code factor}, high ones kept, a smooth
     * blend between (Meta's {@code apply_scaling}).
     */
    record Llama3(float factor, float lowFreqFactor, float highFreqFactor, int originalContext) implements RopeScaling {
    }

    static RopeScaling from(GgufFile gguf, String arch) {
        String type = gguf.string(arch + ".rope.scaling.type").orElse("none");
        float factor = gguf.number(arch + ".rope.scaling.factor").orElse(1.0).floatValue();
        return switch (type) {
            case "linear" -> factor == 1f ? new None() : new Linear(factor);
            case "llama3" -> new Llama3(factor,
                    gguf.number(arch + ".rope.scaling.low_freq_factor").orElse(1.0).floatValue(),
                    gguf.number(arch + ".rope.scaling.high_freq_factor").orElse(4.0).floatValue(),
                    gguf.intValue(arch + ".rope.scaling.original_context_length", 1).orElse(8192));
            default -> new None();
        };
    }
}
