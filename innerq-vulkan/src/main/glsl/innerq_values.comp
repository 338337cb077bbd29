#version 450
// InnerQ p.V for the query heads of one KV head (workgroup y), split over workgroups x: x < fpChunks take FP_CHUNK
// fp32 tokens each (the sink [0, sinkEnd), then the window [max(sink, vEnd), n)); the others take BLOCKS quantized
// value blocks (GROUP tokens each, CHUNK = BLOCKS * GROUP = 256 tokens) from block (x - fpChunks) * BLOCKS. Values are stored
// transposed, per channel over GROUP tokens, so each group's partial sum takes its scale once:
// s * dot(codes, p) (+ z * sum(p) for an asymmetric group). A thread takes one channel for all PER_KV heads and a
// 1/SPLIT share of the blocks; shares meet in shared memory; partial[x][h][c] is summed by reduce_chunks.
#include "common.glsl"
layout(local_size_x_id = 5) in;                   // HEAD_DIM * SPLIT threads
layout(constant_id = 0) const uint HEAD_DIM = 128;
layout(constant_id = 1) const uint PER_KV = 4;
layout(constant_id = 2) const uint GROUP = 32;
layout(constant_id = 3) const uint BITS = 2;
layout(constant_id = 4) const uint MODE = 0;
layout(constant_id = 5) const uint THREADS = 256;
layout(std430, binding = 0) readonly buffer Cache { uint cache[]; };
layout(std430, binding = 1) readonly buffer Probs { float p[]; };
layout(std430, binding = 2) writeonly buffer Partial { float partial[]; };
layout(push_constant) uniform Push {
    uint n; uint sinkEnd; uint vEnd; uint sink; uint sinkSlots; uint ringSlots; uint maxValueGroups; uint vBlocks;
    uint sinkV; uint ringV; uint codes; uint scales; uint zeros; uint scoreStride; uint heads; uint fpChunks;
} pc;

#include "codes.glsl"

const uint MAX_PER_KV = 8;
const uint SPLIT = THREADS / HEAD_DIM;
const uint CHUNK = 256;
const uint FP_CHUNK = 32;
const uint BLOCKS = CHUNK / GROUP;
const uint WORDS = (GROUP * BITS + 31u) / 32u;
shared vec4 ps[PER_KV * CHUNK / 4];
shared float psum[PER_KV * BLOCKS];
shared float red[THREADS * PER_KV];

float code(uint base, uint i, bool signedCodes) {
    return codeValue(fieldAt(base, i, BITS), BITS, signedCodes);
}

void main() {
    uint lid = gl_LocalInvocationID.x;
    uint c = lid % HEAD_DIM;
    uint sub = lid / HEAD_DIM;
    uint kvh = gl_WorkGroupID.y;
    uint h0 = kvh * PER_KV;
    float acc[MAX_PER_KV];
    for (uint j = 0u; j < PER_KV; j++) {
        acc[j] = 0.0;
    }
    if (gl_WorkGroupID.x < pc.fpChunks) {
        uint windowStart = max(pc.sink, pc.vEnd);
        uint tokens = pc.sinkEnd + (pc.n - min(pc.n, windowStart));
        uint end = min(tokens, (gl_WorkGroupID.x + 1u) * FP_CHUNK);
        for (uint i = gl_WorkGroupID.x * FP_CHUNK + sub; i < end; i += SPLIT) {
            uint t = i < pc.sinkEnd ? i : windowStart + i - pc.sinkEnd;
            uint at = t < pc.sinkEnd
                    ? pc.sinkV + (kvh * pc.sinkSlots + t) * HEAD_DIM
                    : pc.ringV + (kvh * pc.ringSlots + (t - pc.sink) % pc.ringSlots) * HEAD_DIM;
            float v = uintBitsToFloat(cache[at + c]);
            for (uint j = 0u; j < PER_KV; j++) {
                acc[j] += p[(h0 + j) * pc.scoreStride + t] * v;
            }
        }
    } else {
        uint b0 = (gl_WorkGroupID.x - pc.fpChunks) * BLOCKS;
        uint blocks = min(BLOCKS, pc.vBlocks - b0);
        uint t0 = pc.sink + b0 * GROUP;
        for (uint i = lid; i < PER_KV * CHUNK; i += THREADS) {
            uint j = i / CHUNK;
            uint tt = i % CHUNK;
            ps[i / 4u][i & 3u] = tt < blocks * GROUP ? p[(h0 + j) * pc.scoreStride + t0 + tt] : 0.0;
        }
        barrier();
        if (MODE != 0u) {
            for (uint i = lid; i < PER_KV * BLOCKS; i += THREADS) {
                uint j = i / BLOCKS;
                uint b = i % BLOCKS;
                vec4 s = vec4(0.0);
                for (uint k = 0u; k < GROUP / 4u; k++) {
                    s += ps[(j * CHUNK + b * GROUP) / 4u + k];
                }
                psum[i] = s.x + s.y + s.z + s.w;
            }
            barrier();
        }
        for (uint b = sub; b < blocks; b += SPLIT) {
            uint g = (kvh * HEAD_DIM + c) * pc.maxValueGroups + b0 + b;
            uint base = pc.codes + g * WORDS;
            uint sb = halfAt(pc.scales, g);
            bool sym = (sb & ASYMMETRIC_FLAG) == 0u;
            float part[MAX_PER_KV];
            for (uint j = 0u; j < PER_KV; j++) {
                part[j] = 0.0;
            }
            for (uint k = 0u; k < GROUP / 4u; k++) {
                vec4 v = vec4(code(base, 4u * k, sym), code(base, 4u * k + 1u, sym),
                              code(base, 4u * k + 2u, sym), code(base, 4u * k + 3u, sym));
                for (uint j = 0u; j < PER_KV; j++) {
                    part[j] += dot(ps[(j * CHUNK + b * GROUP) / 4u + k], v);
                }
            }
            float s = f16(sb & 0x7FFFu);
            float z = sym ? 0.0 : f16(halfAt(pc.zeros, g));
            for (uint j = 0u; j < PER_KV; j++) {
                acc[j] += s * part[j] + (sym ? 0.0 : z * psum[j * BLOCKS + b]);
            }
        }
    }
    for (uint j = 0u; j < PER_KV; j++) {
        red[(sub * PER_KV + j) * HEAD_DIM + c] = acc[j];
    }
    barrier();
    for (uint i = lid; i < PER_KV * HEAD_DIM; i += THREADS) {
        float s = 0.0;
        for (uint k = 0u; k < SPLIT; k++) {
            s += red[k * PER_KV * HEAD_DIM + i];
        }
        partial[(gl_WorkGroupID.x * pc.heads + h0) * HEAD_DIM + i] = s;
    }
}
