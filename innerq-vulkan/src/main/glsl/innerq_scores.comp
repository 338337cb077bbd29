#version 450
// InnerQ q.K^T for the query heads of one KV head (workgroup y) over tokens [0, n): the sink [0, sinkEnd) and the
// window [kEnd, n) in fp32 with q; the quantized keys [sink, kEnd) as s * dot(codes, q * f) per group of GROUP
// channels (+ z * sum(q * f) for an asymmetric group): one scale per group, applied to the partial sum. A thread
// takes one group (GROUP channels) of one token for all PER_KV heads; the groups of a token meet in shared memory.
#include "common.glsl"
layout(local_size_x = 256) in;
layout(constant_id = 0) const uint HEAD_DIM = 128;
layout(constant_id = 1) const uint PER_KV = 4;
layout(constant_id = 2) const uint GROUP = 32;
layout(constant_id = 3) const uint BITS = 3;
layout(constant_id = 4) const uint MODE = 0;
layout(constant_id = 5) const uint NORM = 1;
layout(std430, binding = 0) readonly buffer Cache { uint cache[]; };
layout(std430, binding = 1) readonly buffer Query { float q[]; };
layout(std430, binding = 2) writeonly buffer Scores { float scores[]; };
layout(push_constant) uniform Push {
    uint n; uint sinkEnd; uint kEnd; uint sink; uint sinkSlots; uint ringSlots; uint maxKeyTokens; uint sinkK;
    uint ringK; uint codes; uint scales; uint zeros; uint factors; uint scoreStride; float scale; uint qBase;
} pc;

#include "codes.glsl"

const uint MAX_PER_KV = 8;
const uint GROUPS = HEAD_DIM / GROUP;
const uint TOKENS = 256 / GROUPS;                 // tokens per workgroup
const uint WORDS = (GROUP * BITS + 31u) / 32u;
shared float qs[MAX_PER_KV * 256];                // q
shared float qf[MAX_PER_KV * 256];                // q * f
shared float qsum[MAX_PER_KV * 64];               // sum of q * f per key group
shared float red[256 * MAX_PER_KV];

void main() {
    uint lid = gl_LocalInvocationID.x;
    uint kvh = gl_WorkGroupID.y;
    uint h0 = kvh * PER_KV;
    for (uint i = lid; i < PER_KV * HEAD_DIM; i += 256u) {
        float x = q[pc.qBase + h0 * HEAD_DIM + i];
        qs[i] = x;
        qf[i] = NORM == 1u ? x * uintBitsToFloat(cache[pc.factors + kvh * HEAD_DIM + i % HEAD_DIM]) : x;
    }
    barrier();
    if (MODE != 0u && lid < PER_KV * GROUPS) {
        float s = 0.0;
        uint j = lid / GROUPS;
        uint kg = lid % GROUPS;
        for (uint i = 0u; i < GROUP; i++) {
            s += qf[j * HEAD_DIM + kg * GROUP + i];
        }
        qsum[lid] = s;
    }
    barrier();
    uint tl = lid / GROUPS;
    uint kg = lid % GROUPS;
    uint t = gl_WorkGroupID.x * TOKENS + tl;
    uint c0 = kg * GROUP;
    float acc[MAX_PER_KV];
    for (uint j = 0u; j < PER_KV; j++) {
        acc[j] = 0.0;
    }
    if (tl < TOKENS && t < pc.n) {
        if (t >= pc.sinkEnd && t < pc.kEnd) {
            uint g = (kvh * pc.maxKeyTokens + t - pc.sink) * GROUPS + kg;
            uint base = pc.codes + g * WORDS;
            uint sb = halfAt(pc.scales, g);
            bool asym = (sb & ASYMMETRIC_FLAG) != 0u;
            float dot[MAX_PER_KV];
            for (uint j = 0u; j < PER_KV; j++) {
                dot[j] = 0.0;
            }
            if (32u % BITS == 0u) {
                const uint PER_WORD = 32u / BITS;
                for (uint w = 0u; w < WORDS; w++) {
                    uint word = cache[base + w];
                    for (uint k = 0u; k < PER_WORD && w * PER_WORD + k < GROUP; k++) {
                        float c = codeValue((word >> (k * BITS)) & ((1u << BITS) - 1u), BITS, !asym);
                        uint ch = c0 + w * PER_WORD + k;
                        for (uint j = 0u; j < PER_KV; j++) {
                            dot[j] += qf[j * HEAD_DIM + ch] * c;
                        }
                    }
                }
            } else {
                for (uint i = 0u; i < GROUP; i++) {
                    float c = codeValue(fieldAt(base, i, BITS), BITS, !asym);
                    for (uint j = 0u; j < PER_KV; j++) {
                        dot[j] += qf[j * HEAD_DIM + c0 + i] * c;
                    }
                }
            }
            float s = f16(sb & 0x7FFFu);
            float z = asym ? f16(halfAt(pc.zeros, g)) : 0.0;
            for (uint j = 0u; j < PER_KV; j++) {
                acc[j] = s * dot[j] + (asym ? z * qsum[j * GROUPS + kg] : 0.0);
            }
        } else {
            uint row = t < pc.sinkEnd
                    ? pc.sinkK + (kvh * pc.sinkSlots + t) * HEAD_DIM
                    : pc.ringK + (kvh * pc.ringSlots + (t - pc.sink) % pc.ringSlots) * HEAD_DIM;
            for (uint i = 0u; i < GROUP; i++) {
                float k = uintBitsToFloat(cache[row + c0 + i]);
                for (uint j = 0u; j < PER_KV; j++) {
                    acc[j] += qs[j * HEAD_DIM + c0 + i] * k;
                }
            }
        }
    }
    for (uint j = 0u; j < PER_KV; j++) {
        red[lid * PER_KV + j] = acc[j];
    }
    barrier();
    for (uint k = lid; k < TOKENS * PER_KV; k += 256u) {
        uint tt = k / PER_KV;
        uint j = k % PER_KV;
        uint token = gl_WorkGroupID.x * TOKENS + tt;
        if (token < pc.n) {
            float s = 0.0;
            for (uint g = 0u; g < GROUPS; g++) {
                s += red[(tt * GROUPS + g) * PER_KV + j];
            }
            scores[(h0 + j) * pc.scoreStride + token] = s * pc.scale;
        }
    }
}
