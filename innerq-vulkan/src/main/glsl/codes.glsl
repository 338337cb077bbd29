// Reading packed codes from the bound buffer `cache` (declare it before including this file).
// A group of GROUP b-bit codes starts at a word boundary; its words form one little-endian bit stream (code i at
// stream bits [b*i, b*i + b)): io.innerq.quant.BitPacking.

// Code i (b bits) of the group at word `base`, as an unsigned field.
uint fieldAt(uint base, uint i, uint b) {
    uint bit = i * b;
    uint word = base + (bit >> 5);
    uint shift = bit & 31u;
    uint f = cache[word] >> shift;
    if (shift + b > 32u) {
        f |= cache[word + 1u] << (32u - shift);
    }
    return f & ((1u << b) - 1u);
}

// A field as a code: two's complement for a symmetric group, unsigned for an asymmetric one. No integer-to-float
// conversion (a quarter-rate instruction on GPUs): 2^23 + x has x in its mantissa, and flipping the sign bit of a
// two's complement field gives it offset by 2^(b-1); one OR and one subtraction make the float.
float codeValue(uint field, uint b, bool signedCodes) {
    uint flip = signedCodes ? (1u << (b - 1u)) : 0u;
    float bias = signedCodes ? 8388608.0 + float(1u << (b - 1u)) : 8388608.0;
    return uintBitsToFloat(0x4B000000u | (field ^ flip)) - bias;
}

// An unsigned field as a float, without an integer-to-float conversion (see codeValue).
float unsignedValue(uint field) {
    return uintBitsToFloat(0x4B000000u | field) - 8388608.0;
}

// Element i of an fp16 array that starts at word `base`.
uint halfAt(uint base, uint i) {
    return (cache[base + (i >> 1)] >> ((i & 1u) << 4)) & 0xFFFFu;
}
