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

// A field as a code: two's complement for a symmetric group, unsigned for an asymmetric one (a select, no branch).
float codeValue(uint field, uint b, bool signedCodes) {
    return float(field) - (signedCodes && field >= (1u << (b - 1u)) ? float(1u << b) : 0.0);
}

// Element i of an fp16 array that starts at word `base`.
uint halfAt(uint base, uint i) {
    return (cache[base + (i >> 1)] >> ((i & 1u) << 4)) & 0xFFFFu;
}
