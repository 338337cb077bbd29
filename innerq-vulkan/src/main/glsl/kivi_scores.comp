#version 450
// KIVI q.K^T for the query heads of one KV head (workgroup y) over tokens [0, n): the quantized keys [0, kEnd) with
// every element dequantized, k = s * code + z, before its multiply-add (scale and zero point per channel over a group
// of GROUP tokens, so they change along q's dimension); the residual [kEnd, n) in fp32. Group (kvHead, tokenGroup, c)
// has index g = (kvHead * maxKeyGroups + tokenGroup) * HEAD_DIM + c: codes at codes + g * WORDS (token i of the group
// = code i), fp16 scale and zero point at element g of their arrays; residual token t at ringK + (kvHead * keySlots
// + t % keySlots) * HEAD_DIM. A thread takes SEG channels of one token for all PER_KV heads, so the cache is read once
// per KV head; adjacent threads take adjacent tokens, which share code words, scales and zero points. Scales and
// zero points are converted per element with unpackHalf2x16 (exact), as KIVI's kernels convert theirs. The segments
// of a token meet in shared memory. A workgroup takes STEPS * TOKENS consecutive tokens.
layout(local_size_x = 256) in;
layout(constant_id = 0) const uint HEAD_DIM = 128;
layout(constant_id = 1) const uint PER_KV = 4;
layout(constant_id = 2) const uint GROUP = 32;
layout(constant_id = 3) const uint BITS = 2;
layout(constant_id = 4) const uint SEG = 32;          // channels per thread; divides HEAD_DIM
layout(constant_id = 5) const uint STEPS = 4;         // steps of TOKENS tokens a workgroup takes
layout(std430, binding = 0) readonly buffer Cache { uint cache[]; };
layout(std430, binding = 1) readonly buffer Query { float q[]; };
layout(std430, binding = 2) writeonly buffer Scores { float scores[]; };
layout(push_constant) uniform Push {
    uint n; uint kEnd; uint keySlots; uint maxKeyGroups; uint ringK; uint codes; uint scales; uint zeros;
    uint scoreStride; float scale; uint qBase;
} pc;

const uint MAX_PER_KV = 8;
const uint SEGS = HEAD_DIM / SEG;
const uint TOKENS = 256 / SEGS;                       // tokens per step

const uint WORDS = (GROUP * BITS + 31u) / 32u;
const uint MASK = (1u << BITS) - 1u;
shared float qs[MAX_PER_KV * 256];
shared float red[256 * MAX_PER_KV];

// The field at bit `shift` of word `at` (and the next word when it straddles), as a float.
float code(uint at, uint shift, bool straddles) {
    uint f = cache[at] >> shift;
    if (straddles) {
        f |= cache[at + 1u] << (32u - shift);
    }
    return uintBitsToFloat(0x4B000000u | (f & MASK)) - 8388608.0;   // exact, no int-to-float conversion
}

void main() {
    uint lid = gl_LocalInvocationID.x;
    uint kvh = gl_WorkGroupID.y;
    uint h0 = kvh * PER_KV;
    for (uint i = lid; i < PER_KV * HEAD_DIM; i += 256u) {
        qs[i] = q[pc.qBase + h0 * HEAD_DIM + i];
    }
    barrier();
    uint tl = lid % TOKENS;
    uint sg = lid / TOKENS;
    uint c0 = sg * SEG;
    for (uint step = 0u; step < STEPS; step++) {
        uint first = (gl_WorkGroupID.x * STEPS + step) * TOKENS;
        uint t = first + tl;
        float acc[MAX_PER_KV];
        for (uint j = 0u; j < PER_KV; j++) {
            acc[j] = 0.0;
        }
        if (t < pc.n) {
            if (t < pc.kEnd) {
                // this token's field in every group of its token group: the same word and shift for all channels
                uint bit = (t % GROUP) * BITS;
                uint word = bit >> 5;
                uint shift = bit & 31u;
                bool straddles = shift + BITS > 32u;
                uint g0 = (kvh * pc.maxKeyGroups + t / GROUP) * HEAD_DIM + c0;
                for (uint i = 0u; i < SEG; i += 2u) {
                    uint g = g0 + i;                      // even: channels i and i + 1 share a scale word and a zero word
                    vec2 s = abs(unpackHalf2x16(cache[pc.scales + (g >> 1)]));   // abs: the asymmetric flag
                    vec2 z = unpackHalf2x16(cache[pc.zeros + (g >> 1)]);
                    vec2 k = s * vec2(code(pc.codes + g * WORDS + word, shift, straddles),
                            code(pc.codes + (g + 1u) * WORDS + word, shift, straddles)) + z;
                    for (uint j = 0u; j < PER_KV; j++) {
                        acc[j] += qs[j * HEAD_DIM + c0 + i] * k.x + qs[j * HEAD_DIM + c0 + i + 1u] * k.y;
                    }
                }
            } else {
                uint row = pc.ringK + (kvh * pc.keySlots + t % pc.keySlots) * HEAD_DIM + c0;
                for (uint i = 0u; i < SEG; i++) {
                    float k = uintBitsToFloat(cache[row + i]);
                    for (uint j = 0u; j < PER_KV; j++) {
                        acc[j] += qs[j * HEAD_DIM + c0 + i] * k;
                    }
                }
            }
        }
        for (uint j = 0u; j < PER_KV; j++) {
            red[j * 256u + lid] = acc[j];
        }
        barrier();
        for (uint k = lid; k < PER_KV * TOKENS; k += 256u) {
            uint j = k / TOKENS;
            uint tt = k % TOKENS;
            uint token = first + tt;
            if (token < pc.n) {
                float s = 0.0;
                for (uint sgi = 0u; sgi < SEGS; sgi++) {
                    s += red[j * 256u + sgi * TOKENS + tt];
                }
                scores[(h0 + j) * pc.scoreStride + token] = s * pc.scale;
            }
        }
        barrier();
    }
}
