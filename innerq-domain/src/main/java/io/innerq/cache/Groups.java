package io.innerq.cache;

/** Group sizes that depend on the model's head_dim. */
final class Groups {

    private Groups() {
    }

    /** {@code preferred} channels per group, or {@code headDim} when smaller (one group per head). */
    static int channels(int preferred, int headDim, String mode) {
        if (headDim <= 0) {
            throw new IllegalArgumentException("head_dim must be positive, got " + headDim);
        }
        if (headDim < preferred) {
            return headDim;
        }
        if (headDim % preferred != 0) {
            throw new IllegalArgumentException("%s groups %d channels, which must divide head_dim %d"
                    .formatted(mode, preferred, headDim));
        }
        return preferred;
    }

    /** {@code n} as an array length, or an error naming {@code what}. */
    static int length(long n, String what) {
        if (n < 0 || n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("%s needs %d elements, more than one Java array holds: lower the capacity"
                    .formatted(what, n));
        }
        return (int) n;
    }
}
