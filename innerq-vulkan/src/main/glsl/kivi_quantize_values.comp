#version 450
// Quantizes KIVI values of tokens [first, first + count): per token and KV head, groups of GROUP channels, asymmetric
// b-bit. Group (kvHead, t, channelGroup) has index g = (kvHead * maxValueTokens + t) * GROUPS + channelGroup: codes at
// codes + g * WORDS, fp16 scale and zero point at element g of their arrays. Source element (t, kvHead, c):
// srcBase + pos(t) * srcTokenStride + kvHead * srcHeadStride + c, pos(t) = t % srcRing for the value residual, t for
// the prompt buffer (srcRing 0). One thread per group; scale and zero slots start at zero and are written once
// (atomicOr into their half word).
#include "common.glsl"
layout(local_size_x = 64) in;
layout(constant_id = 0) const uint HEAD_DIM = 128;
layout(constant_id = 1) const uint GROUP = 32;
layout(constant_id = 2) const uint BITS = 2;
const uint MODE = 1u;                             // asymmetric
layout(std430, binding = 0) buffer Cache { uint cache[]; };
layout(std430, binding = 1) readonly buffer Source { uint src[]; };
layout(push_constant) uniform Push {
    uint first; uint count; uint kvHeads; uint maxValueTokens; uint codes; uint scales; uint zeros; uint srcBase;
    uint srcTokenStride; uint srcHeadStride; uint srcRing;
} pc;

const uint GROUPS = HEAD_DIM / GROUP;
const uint WORDS = (GROUP * BITS + 31u) / 32u;

uint rowStart;
uint codeBase;

float element(uint i) {
    return uintBitsToFloat(src[rowStart + i]);
}

void emitWord(uint w, uint v) {
    cache[codeBase + w] = v;
}

#include "quantize_group.glsl"

void main() {
    uint i = gl_GlobalInvocationID.x;
    if (i >= pc.count * pc.kvHeads * GROUPS) {
        return;
    }
    uint vg = i % GROUPS;
    uint kvh = (i / GROUPS) % pc.kvHeads;
    uint t = pc.first + i / (GROUPS * pc.kvHeads);
    uint pos = pc.srcRing > 0u ? t % pc.srcRing : t;
    rowStart = pc.srcBase + pos * pc.srcTokenStride + kvh * pc.srcHeadStride + vg * GROUP;
    uint g = (kvh * pc.maxValueTokens + t) * GROUPS + vg;
    codeBase = pc.codes + g * WORDS;
    uint scaleBits;
    uint zeroBits;
    quantizeGroup(scaleBits, zeroBits);
    atomicOr(cache[pc.scales + (g >> 1)], scaleBits << ((g & 1u) << 4));
    atomicOr(cache[pc.zeros + (g >> 1)], zeroBits << ((g & 1u) << 4));
}
