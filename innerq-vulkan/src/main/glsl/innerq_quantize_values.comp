#version 450
// Quantizes value blocks [first, first + blocks) into the InnerQ layout: per KV head and channel, a group of GROUP
// consecutive tokens (block j holds tokens sink + j * GROUP ..), with an fp16 scale (and zero point) per group at
// index (kvHead * HEAD_DIM + c) * maxValueGroups + j. Source addressing as innerq_quantize_keys. One thread per group.
#include "common.glsl"
layout(local_size_x = 64) in;
layout(constant_id = 0) const uint HEAD_DIM = 128;
layout(constant_id = 1) const uint GROUP = 32;
layout(constant_id = 2) const uint BITS = 2;
layout(constant_id = 3) const uint MODE = 0;
layout(std430, binding = 0) buffer Cache { uint cache[]; };
layout(std430, binding = 1) readonly buffer Source { uint src[]; };
layout(std430, binding = 2) buffer Counters { uint counters[]; };
layout(push_constant) uniform Push {
    uint first; uint blocks; uint kvHeads; uint sink; uint maxValueGroups; uint codes; uint scales; uint zeros;
    uint srcBase; uint srcTokenStride; uint srcHeadStride; uint srcRing; uint counter;
} pc;

const uint WORDS = (GROUP * BITS + 31u) / 32u;

uint firstToken;
uint column;
uint codeBase;

float element(uint i) {
    uint t = firstToken + i;
    uint pos = pc.srcRing > 0u ? (t - pc.sink) % pc.srcRing : t;
    return uintBitsToFloat(src[pc.srcBase + pos * pc.srcTokenStride + column]);
}

void emitWord(uint w, uint v) {
    cache[codeBase + w] = v;
}

#include "quantize_group.glsl"

void main() {
    uint i = gl_GlobalInvocationID.x;
    if (i >= pc.blocks * pc.kvHeads * HEAD_DIM) {
        return;
    }
    uint c = i % HEAD_DIM;
    uint kvh = (i / HEAD_DIM) % pc.kvHeads;
    uint j = pc.first + i / (HEAD_DIM * pc.kvHeads);
    firstToken = pc.sink + j * GROUP;
    column = kvh * pc.srcHeadStride + c;
    uint g = (kvh * HEAD_DIM + c) * pc.maxValueGroups + j;
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
