/**
 * Group quantizers and dense bit packing for the KV cache: the scalar definitions that the vectorized and GPU
 * kernels must reproduce. Pure arithmetic on caller-provided arrays; nothing here allocates per group.
 *
 * <p>Conventions shared by every class here:
 * <ul>
 *   <li>scales and zero points are fp16 bit patterns ({@code short}); arithmetic is fp32;</li>
 *   <li>the sign bit of a stored scale flags an asymmetric group (scales are otherwise {@code >= 0}), in every mode;</li>
 *   <li>rounding is half away from zero ({@link GroupQuantizer#round});</li>
 *   <li>codes of a group are packed little-endian into 32-bit words ({@link BitPacking}).</li>
 * </ul>
 */
package io.innerq.quant;
