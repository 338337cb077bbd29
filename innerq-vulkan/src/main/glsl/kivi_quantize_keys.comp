#version 450
// Quantizes KIVI keys, token groups [first, first + count): per KV head and channel, the GROUP tokens of a group,
// asymmetric b-bit. Group (kvHead, tokenGroup, c) has index g = (kvHead * maxKeyGroups + tokenGroup) * HEAD_DIM + c:
// codes at codes + g * WORDS (token i of the group = code i), fp16 scale and zero point at element g of their arrays.
// Source element (t, kvHead, c): srcBase + pos(t) * srcTokenStride + kvHead * srcHeadStride + c, pos(t) = t % srcRing
// for the key residual, t for the prompt buffer (srcRing 0). One thread per group, adjacent threads on adjacent
// channels; scale and zero slots start at zero and are written once (atomicOr into their half word).
#include "common.glsl"
layout(local_size_x = 64) in;
layout(constant_id = 0) const uint HEAD_DIM = 128;
layout(constant_id = 1) const uint GROUP = 32;
layout(constant_id = 2) const uint BITS = 2;
const uint MODE = 1u;                             // asymmetric
layout(std430, binding = 0) buffer Cache { uint cache[]; };
layout(std430, binding = 1) readonly buffer Source { uint src[]; };
layout(push_constant) uniform Push {
    uint first; uint count; uint kvHeads; uint maxKeyGroups; uint codes; uint scales; uint zeros; uint srcBase;
    uint srcTokenStride; uint srcHeadStride; uint srcRing;
} pc;

const uint WORDS = (GROUP * BITS + 31u) / 32u;

uint firstToken;
uint column;
uint codeBase;

float element(uint i) {
    uint t = firstToken + i;
    uint pos = pc.srcRing > 0u ? t % pc.srcRing : t;
    return uintBitsToFloat(src[pc.srcBase + pos * pc.srcTokenStride + column]);
}

void emitWord(uint w, uint v) {
    cache[codeBase + w] = v;
}

#include "quantize_group.glsl"

void main() {
    uint i = gl_GlobalInvocationID.x;
    if (i >= pc.count * pc.kvHeads * HEAD_DIM) {
        return;
    }
    uint c = i % HEAD_DIM;
    uint kvh = (i / HEAD_DIM) % pc.kvHeads;
    uint tg = pc.first + i / (HEAD_DIM * pc.kvHeads);
    firstToken = tg * GROUP;
    column = kvh * pc.srcHeadStride + c;
    uint g = (kvh * pc.maxKeyGroups + tg) * HEAD_DIM + c;
    codeBase = pc.codes + g * WORDS;
    uint scaleBits;
    uint zeroBits;
    quantizeGroup(scaleBits, zeroBits);
    atomicOr(cache[pc.scales + (g >> 1)], scaleBits << ((g & 1u) << 4));
    atomicOr(cache[pc.zeros + (g >> 1)], zeroBits << ((g & 1u) << 4));
}
