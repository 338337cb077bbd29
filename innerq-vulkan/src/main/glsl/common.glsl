// Definitions shared by the kernels. Java mirrors them in io.innerq.vulkan.Layout (LayoutConstantsTests checks both).

// fp16 values are stored two per 32-bit word, element i in the low half of word i/2 when i is even.
// A stored scale with its sign bit set marks an asymmetric group (its zero point is then read).
const uint ASYMMETRIC_FLAG = 0x8000u;
const float FP16_MAX = 65504.0;

// The fp16 bit pattern h (low 16 bits) as a float, exactly, subnormals included.
float f16(uint h) {
    uint e = (h >> 10) & 31u;
    uint m = h & 1023u;
    float magnitude = e == 0u ? float(m) * 5.9604645e-8 : uintBitsToFloat(((e + 112u) << 23) | (m << 13));
    return (h & 0x8000u) != 0u ? -magnitude : magnitude;
}

// Element i of an fp16 array held in words.
#define HALF_AT(words, i) (((words)[(i) >> 1] >> (((i) & 1u) << 4)) & 0xFFFFu)

// The largest fp16 <= a, for 0 <= a <= FP16_MAX (bit pattern).
uint truncate16(float a) {
    if (a < 6.1035156e-5) {
        return uint(floor(a * 16777216.0));
    }
    uint bits = floatBitsToUint(a);
    return ((((bits >> 23) & 255u) - 112u) << 10) | ((bits & 0x7FFFFFu) >> 13);
}

// The smallest fp16 >= a, for 0 <= a <= FP16_MAX (bit pattern).
uint ceil16(float a) {
    if (a < 6.1035156e-5) {
        return uint(ceil(a * 16777216.0));
    }
    uint bits = floatBitsToUint(a);
    uint h = ((((bits >> 23) & 255u) - 112u) << 10) | ((bits & 0x7FFFFFu) >> 13);
    return (bits & 0x1FFFu) != 0u ? h + 1u : h;
}

// The largest fp16 <= x, for |x| <= FP16_MAX (bit pattern).
uint floor16(float x) {
    return x >= 0.0 ? truncate16(x) : (0x8000u | ceil16(-x));
}

// Round half away from zero (C's roundf, Java's GroupQuantizer.round).
int roundAway(float v) {
    return v >= 0.0 ? int(floor(v + 0.5)) : -int(floor(-v + 0.5));
}

// Code i (b bits) of a group whose words are w[], as an unsigned field: stream bit j is bit j % 32 of word j / 32.
uint fieldAt(uint w[8], uint i, uint b) {
    uint bit = i * b;
    uint word = bit >> 5;
    uint shift = bit & 31u;
    uint f = w[word] >> shift;
    if (shift + b > 32u) {
        f |= w[word + 1u] << (32u - shift);
    }
    return f & ((1u << b) - 1u);
}

// Code i as a float: sign-extended (two's complement) for a symmetric group, plain for an asymmetric one.
float codeAt(uint w[8], uint i, uint b, bool signedCodes) {
    uint f = fieldAt(w, i, b);
    return signedCodes ? float(int(f << (32u - b)) >> (32u - b)) : float(f);
}
