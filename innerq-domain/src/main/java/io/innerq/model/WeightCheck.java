package io.innerq.model;

/** How much of a model's weights {@link LlamaModel} reads at load to check that they are finite. */
public enum WeightCheck {
    /** The norm weights and RoPE frequency factors: small, and read anyway. The default. */
    NORMS,
    /** Every weight of every matrix too: the whole file is read (seconds per gigabyte). */
    ALL
}
