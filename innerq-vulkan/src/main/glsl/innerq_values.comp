#version 450
// InnerQ p.V for the query heads of one KV head (workgroup y), split over workgroups x: x = 0 takes the fp32 tokens
// (the sink [0, sinkEnd) and the window [max(sink, vEnd), n)); x >= 1 takes BLOCKS quantized value blocks
// (GROUP tokens each, CHUNK = BLOCKS * GROUP = 256 tokens) starting at block (x - 1) * BLOCKS. Values are stored
// transposed, per channel over GROUP tokens, so each group's partial sum takes its scale once:
// s * dot(codes, p) (+ z * sum(p) for an asymmetric group). One thread per channel, for all PER_KV heads;
// partial[x][h][c] is summed by reduce_chunks.
#include "common.glsl"
layout(local_size_x_id = 0) in;                   // HEAD_DIM threads
layout(constant_id = 0) const uint HEAD_DIM = 128;
layout(constant_id = 1) const uint PER_KV = 4;
layout(constant_id = 2) const uint GROUP = 32;
layout(constant_id = 3) const uint BITS = 2;
layout(constant_id = 4) const uint MODE = 0;
layout(std430, binding = 0) readonly buffer Cache { uint cache[]; };
layout(std430, binding = 1) readonly buffer Probs { float p[]; };
layout(std430, binding = 2) writeonly buffer Partial { float partial[]; };
layout(push_constant) uniform Push {
    uint n; uint sinkEnd; uint vEnd; uint sink; uint sinkSlots; uint ringSlots; uint maxValueGroups; uint vBlocks;
    uint sinkV; uint ringV; uint codes; uint scales; uint zeros; uint scoreStride; uint heads;
} pc;

#include "codes.glsl"

const uint MAX_PER_KV = 8;
const uint CHUNK = 256;
const uint BLOCKS = CHUNK / GROUP;
const uint WORDS = (GROUP * BITS + 31u) / 32u;
shared float ps[MAX_PER_KV * CHUNK];
shared float psum[MAX_PER_KV * BLOCKS];

void main() {
    uint c = gl_LocalInvocationID.x;
    uint kvh = gl_WorkGroupID.y;
    uint h0 = kvh * PER_KV;
    float acc[MAX_PER_KV];
    for (uint j = 0u; j < PER_KV; j++) {
        acc[j] = 0.0;
    }
    if (gl_WorkGroupID.x == 0u) {
        for (uint t = 0u; t < pc.sinkEnd; t++) {
            float v = uintBitsToFloat(cache[pc.sinkV + (kvh * pc.sinkSlots + t) * HEAD_DIM + c]);
            for (uint j = 0u; j < PER_KV; j++) {
                acc[j] += p[(h0 + j) * pc.scoreStride + t] * v;
            }
        }
        for (uint t = max(pc.sink, pc.vEnd); t < pc.n; t++) {
            float v = uintBitsToFloat(cache[pc.ringV + (kvh * pc.ringSlots + (t - pc.sink) % pc.ringSlots) * HEAD_DIM + c]);
            for (uint j = 0u; j < PER_KV; j++) {
                acc[j] += p[(h0 + j) * pc.scoreStride + t] * v;
            }
        }
    } else {
        uint b0 = (gl_WorkGroupID.x - 1u) * BLOCKS;
        uint blocks = min(BLOCKS, pc.vBlocks - b0);
        uint t0 = pc.sink + b0 * GROUP;
        for (uint i = c; i < PER_KV * CHUNK; i += HEAD_DIM) {
            uint j = i / CHUNK;
            uint tt = i % CHUNK;
            ps[i] = tt < blocks * GROUP ? p[(h0 + j) * pc.scoreStride + t0 + tt] : 0.0;
        }
        barrier();
        if (MODE != 0u) {
            for (uint i = c; i < PER_KV * BLOCKS; i += HEAD_DIM) {
                uint j = i / BLOCKS;
                uint b = i % BLOCKS;
                float s = 0.0;
                for (uint k = 0u; k < GROUP; k++) {
                    s += ps[j * CHUNK + b * GROUP + k];
                }
                psum[i] = s;
            }
            barrier();
        }
        for (uint b = 0u; b < blocks; b++) {
            uint g = (kvh * HEAD_DIM + c) * pc.maxValueGroups + b0 + b;
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
                        float code = codeValue((word >> (k * BITS)) & ((1u << BITS) - 1u), BITS, !asym);
                        uint tt = b * GROUP + w * PER_WORD + k;
                        for (uint j = 0u; j < PER_KV; j++) {
                            dot[j] += ps[j * CHUNK + tt] * code;
                        }
                    }
                }
            } else {
                for (uint i = 0u; i < GROUP; i++) {
                    float code = codeValue(fieldAt(base, i, BITS), BITS, !asym);
                    for (uint j = 0u; j < PER_KV; j++) {
                        dot[j] += ps[j * CHUNK + b * GROUP + i] * code;
                    }
                }
            }
            float s = f16(sb & 0x7FFFu);
            float z = asym ? f16(halfAt(pc.zeros, g)) : 0.0;
            for (uint j = 0u; j < PER_KV; j++) {
                acc[j] += s * dot[j] + (asym ? z * psum[j * BLOCKS + b] : 0.0);
            }
        }
    }
    for (uint j = 0u; j < PER_KV; j++) {
        partial[(gl_WorkGroupID.x * pc.heads + h0 + j) * HEAD_DIM + c] = acc[j];
    }
}
