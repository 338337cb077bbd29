#version 450
// Quantizes the keys of tokens [from, from + count) into the InnerQ layout: per token and KV head, groups of KGROUP
// channels, each with an fp16 scale (and, when asymmetric, a zero point at the same index). With NORM the key is
// divided by the channel's factor first. Source element (t, kvHead, c): srcBase + pos(t) * srcTokenStride
// + kvHead * srcHeadStride + c, pos(t) = (t - sink) % srcRing for the window ring, t for the prompt buffer (srcRing 0).
// One thread per group. Scale and zero slots start at zero and are written once (atomicOr into their half word).
#include "common.glsl"
layout(local_size_x = 64) in;
layout(constant_id = 0) const uint HEAD_DIM = 128;
layout(constant_id = 1) const uint GROUP = 32;
layout(constant_id = 2) const uint BITS = 3;
layout(constant_id = 3) const uint MODE = 0;
layout(constant_id = 4) const uint NORM = 1;
layout(std430, binding = 0) buffer Cache { uint cache[]; };
layout(std430, binding = 1) readonly buffer Source { uint src[]; };
layout(std430, binding = 2) buffer Counters { uint counters[]; };
layout(push_constant) uniform Push {
    uint from; uint count; uint kvHeads; uint sink; uint maxKeyTokens; uint codes; uint scales; uint zeros;
    uint factors; uint srcBase; uint srcTokenStride; uint srcHeadStride; uint srcRing; uint counter;
} pc;

const uint GROUPS = HEAD_DIM / GROUP;
const uint WORDS = (GROUP * BITS + 31u) / 32u;

uint rowStart;
uint channel0;
uint factorRow;
uint codeBase;

float element(uint i) {
    float x = uintBitsToFloat(src[rowStart + channel0 + i]);
    return NORM == 1u ? x / uintBitsToFloat(cache[factorRow + channel0 + i]) : x;
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
    uint kg = i % GROUPS;
    uint kvh = (i / GROUPS) % pc.kvHeads;
    uint t = pc.from + i / (GROUPS * pc.kvHeads);
    uint pos = pc.srcRing > 0u ? (t - pc.sink) % pc.srcRing : t;
    rowStart = pc.srcBase + pos * pc.srcTokenStride + kvh * pc.srcHeadStride;
    channel0 = kg * GROUP;
    factorRow = pc.factors + kvh * HEAD_DIM;
    uint g = (kvh * pc.maxKeyTokens + t - pc.sink) * GROUPS + kg;
    codeBase = pc.codes + g * WORDS;
    uint scaleBits;
    uint zeroBits;
    quantizeGroup(scaleBits, zeroBits);
    atomicOr(cache[pc.scales + (g >> 1)], scaleBits << ((g & 1u) << 4));
    if ((scaleBits & ASYMMETRIC_FLAG) != 0u) {
        atomicOr(cache[pc.zeros + (g >> 1)], zeroBits << ((g & 1u) << 4));
        atomicAdd(counters[pc.counter], 1u);
    }
}
