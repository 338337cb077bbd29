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

    /** The scaling {@code <arch>.rope.scaling.*} describes; its factors must be finite and in range. */
    static RopeScaling from(GgufFile gguf, String arch, ModelCheck check) {
        String prefix = arch + ".rope.scaling.";
        String type = gguf.string(prefix + "type").orElse("none");
        return switch (type) {
            case "linear" -> {
                float factor = positive(gguf, check, prefix + "factor", 1);
                yield factor == 1f ? new None() : new Linear(factor);
            }
            case "llama3" -> {
                float factor = positive(gguf, check, prefix + "factor", 1);
                float low = positive(gguf, check, prefix + "low_freq_factor", 1);
                float high = positive(gguf, check, prefix + "high_freq_factor", 4);
                if (!(high > low)) {
                    throw check.metadata(prefix + "high_freq_factor", "is %s: expected more than low_freq_factor %s"
                            .formatted(high, low));
                }
                yield new Llama3(factor, low, high, gguf.intValue(prefix + "original_context_length", 1).orElse(8192));
            }
            default -> new None();
        };
    }

    private static float positive(GgufFile gguf, ModelCheck check, String key, double fallback) {
        float v = gguf.number(key).orElse(fallback).floatValue();
        if (!(v > 0) || Float.isInfinite(v)) {
            throw check.metadata(key, "is %s: expected a finite number above 0".formatted(v));
        }
        return v;
    }
}
