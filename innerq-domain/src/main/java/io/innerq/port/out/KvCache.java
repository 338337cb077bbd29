package io.innerq.port.out;

/**
 * The key/value cache of one sequence, together with the attention that reads it: a cache's layout and the kernel
 * that reduces over it belong together (an inner-grouped quantized cache is only fast with a kernel that applies
 * one scale per group).
 *
 * <p>Positions are written in order, one token at a time, for every layer. {@link #attend} at position {@code p}
 * attends to positions {@code 0..p} inclusive of the layer; {@code p} must be the newest position stored in that
 * layer (store a token, then attend with it).
 */
public interface KvCache extends AutoCloseable {

    /**
     * Stores the key and value of the token at {@code position} for {@code layer}. Keys arrive after RoPE.
     *
     * @param k {@code float[kvHeads * headDim]}, head-major
     * @param v {@code float[kvHeads * headDim]}, head-major
     */
    void store(int layer, int position, float[] k, float[] v);

    /**
     * Causal attention of all query heads at {@code position}: for each query head h with KV head
     * {@code h / (heads / kvHeads)}, {@code out_h = softmax(q_h . K^T / sqrt(headDim)) . V} over positions
     * {@code 0..position}.
     *
     * @param q   {@code float[heads * headDim]}, head-major
     * @param out {@code float[heads * headDim]}, head-major
     */
    void attend(int layer, int position, float[] q, float[] out);

    /** Called once after the whole prompt has run (every layer stored and attended), before the first decode step. */
    default void endPrefill(int promptLength) {
    }

    /** Tokens the cache can hold. */
    int capacity();

    /** Bytes this cache holds now (all layers: codes, scales, zero points, windows). */
    long bytesInUse();

    /** Releases the cache's memory. */
    @Override
    void close();
}
