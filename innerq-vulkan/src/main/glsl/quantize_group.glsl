// One group's quantization, as io.innerq.quant.GroupQuantizer defines it (fp16 scale rounded up, zero point down,
// round half away from zero, hybrid keeps the lower sum of |x - x^|, ties symmetric). The includer defines
// GROUP, BITS, MODE (0 symmetric, 1 asymmetric, 2 hybrid), `float element(uint i)` and `void emitWord(uint w, uint v)`.

const int Q_HALF = 1 << (BITS - 1u);
const int Q_TOP = (1 << BITS) - 1;

int symmetricCode(float x, float s) {
    return s == 0.0 ? 0 : clamp(roundAway(x / s), -Q_HALF, Q_HALF - 1);
}

int asymmetricCode(float x, float s, float z) {
    return s == 0.0 ? 0 : clamp(roundAway((x - z) / s), 0, Q_TOP);
}

// Quantizes the group, emits its packed words; returns the stored scale (sign bit = asymmetric) and zero point.
void quantizeGroup(out uint scaleBits, out uint zeroBits) {
    float amax = 0.0;
    float lo = 3.4e38;
    float hi = -3.4e38;
    for (uint i = 0u; i < GROUP; i++) {
        float x = element(i);
        amax = max(amax, abs(x));
        lo = min(lo, x);
        hi = max(hi, x);
    }
    uint symScale = ceil16(min(amax / float(Q_HALF), FP16_MAX));
    float ss = f16(symScale);
    uint zb = floor16(clamp(lo, -FP16_MAX, FP16_MAX));
    float z = f16(zb);
    float range = hi - z;
    uint asymScale = range > 0.0 ? ceil16(min(range / float(Q_TOP), FP16_MAX)) : 0u;
    float sa = f16(asymScale);
    bool asym = MODE == 1u;
    if (MODE == 2u) {
        float es = 0.0;
        float ea = 0.0;
        for (uint i = 0u; i < GROUP; i++) {
            float x = element(i);
            precise float rs = ss * float(symmetricCode(x, ss));
            precise float ra = sa * float(asymmetricCode(x, sa, z)) + z;
            es += abs(x - rs);
            ea += abs(x - ra);
        }
        asym = ea < es;
    }
    uint current = 0u;
    uint word = 0u;
    for (uint i = 0u; i < GROUP; i++) {
        float x = element(i);
        uint field = uint(asym ? asymmetricCode(x, sa, z) : symmetricCode(x, ss)) & uint(Q_TOP);
        uint bit = i * BITS;
        uint w = bit >> 5;
        uint shift = bit & 31u;
        if (w != current) {
            emitWord(current, word);
            current = w;
            word = 0u;
        }
        word |= field << shift;
        if (shift + BITS > 32u) {
            emitWord(current, word);
            current = w + 1u;
            word = field >> (32u - shift);
        }
    }
    emitWord(current, word);
    scaleBits = asym ? (asymScale | ASYMMETRIC_FLAG) : symScale;
    zeroBits = zb;
}
