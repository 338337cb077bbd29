package io.innerq.quant;

/** How a group's codes map to values. */
public enum QuantMode {

    /** {@code x^ = s * c}, {@code c} in {@code [-2^(b-1), 2^(b-1) - 1]} (two's complement), {@code s = max|x| / 2^(b-1)}. */
    SYMMETRIC(""),

    /** {@code x^ = s * c + z}, {@code c} in {@code [0, 2^b - 1]}, {@code z = min x}, {@code s = (max - z) / (2^b - 1)}. */
    ASYMMETRIC("a"),

    /** Per group whichever of the two has the lower sum of absolute reconstruction errors (ties: symmetric). */
    HYBRID("h");

    private final String suffix;

    QuantMode(String suffix) {
        this.suffix = suffix;
    }

    /** The letter that follows the bit width in a configuration string ({@code 2h}, {@code 3a}, {@code 3}). */
    public String suffix() {
        return suffix;
    }

    /** The mode written as {@code suffix}, as in {@link #suffix()}. */
    public static QuantMode ofSuffix(String suffix) {
        for (QuantMode m : values()) {
            if (m.suffix.equals(suffix)) {
                return m;
            }
        }
        throw new IllegalArgumentException(
                "unknown quantization mode suffix '%s': use '' (symmetric), 'a' (asymmetric) or 'h' (hybrid)".formatted(suffix));
    }
}
