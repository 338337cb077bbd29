/**
 * KV cache modes and their scalar reference caches ({@link io.innerq.cache.ReferenceKvCaches}). The layouts below
 * are the contract for vectorized and GPU implementations; {@link io.innerq.cache.CapacityPlanner} counts their
 * bytes. Codes are packed per group as {@link io.innerq.quant.BitPacking} says; scales and zero points are fp16 with
 * the asymmetric flag in the scale's sign bit ({@link io.innerq.quant.GroupQuantizer}). Per layer:
 *
 * <pre>
 * fp32    K, V  fp32 [token][kvHead][channel]
 * fp16    K, V  fp16 [token][kvHead][channel]                       converted on store
 * q8_0    K, V  int8 [token][kvHead][channel]; d fp16 [token][kvDim / Gq]       Gq = 32, or head_dim below 32
 * kivi-b  K codes  b-bit [kvHead][tokenGroup][channel], a group = 32 tokens of one channel; scale, zero fp16 alike
 *         V codes  b-bit [kvHead][token][channelGroup], a group = Gv channels of one token; scale, zero fp16 alike
 *         residual K fp32 [kvHead][t % 128][channel], V fp32 [kvHead][t % 129][channel]
 * innerq  sink     K, V fp32 [kvHead][t][channel], t < S
 *         window   K, V fp32 [kvHead][(t - S) % (R + G)][channel]
 *         K codes  kb-bit [kvHead][t - S][keyGroup], a group = Gk channels of one token (Gk = G, or head_dim below G)
 *         K scales fp16 [kvHead][t - S][keyGroup]; K zeros fp16 [kvHead][t - S][rank among the token's asymmetric groups]
 *         V codes  vb-bit [kvHead][channel][tokenGroup], a group = G tokens S + jG .. S + jG + G - 1 of one channel
 *         V scales fp16 [kvHead][channel][tokenGroup]; V zeros fp16 [kvHead][tokenGroup][rank among the block's
 *                  asymmetric channels]
 *         key normalization f fp32 [kvHead][channel]
 * </pre>
 * Token-indexed regions are preallocated for the capacity (strides use the capacity: {@code capacity - S - R}
 * quantized key slots, {@code (capacity - S - R) / G} value blocks). Modes with exact prefill (kivi, innerq) hold the
 * running prompt in fp32 until {@code endPrefill}.
 */
package io.innerq.cache;
