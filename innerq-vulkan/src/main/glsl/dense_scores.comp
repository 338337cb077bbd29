#version 450
// q.K^T over a dense fp32 or fp16 cache: scores[h][t] = scale * q_h . K[t] for the query heads of one KV head
// (workgroup y), tokens [0, n). A thread takes SEG channels of one token for all PER_KV heads, so the cache is read
// once per KV head; partial dot products meet in shared memory. A workgroup takes STEPS * TOKENS consecutive tokens.
// Word (t, kvHead, c) of K: kBase + kvHead * headStride + t * tokenStride + c (fp32) or + c / 2 (fp16, two per word).
// With SHUFFLE the SEGS threads of a token (adjacent, in one subgroup) add their parts by subgroup shuffles.
#extension GL_KHR_shader_subgroup_shuffle : require
layout(local_size_x = 256) in;
layout(constant_id = 0) const uint HEAD_DIM = 128;
layout(constant_id = 1) const uint PER_KV = 4;
layout(constant_id = 2) const uint HALF = 0;
layout(constant_id = 3) const uint SEG = 32;          // channels per thread; divides HEAD_DIM, a multiple of 4
layout(constant_id = 4) const uint SHUFFLE = 1;
layout(std430, binding = 0) readonly buffer Cache { uint cache[]; };
layout(std430, binding = 1) readonly buffer Query { float q[]; };
layout(std430, binding = 2) writeonly buffer Scores { float scores[]; };
layout(push_constant) uniform Push {
    uint n; uint kBase; uint headStride; uint tokenStride; uint scoreStride; float scale; uint qBase;
} pc;

const uint MAX_PER_KV = 8;
const uint SEGS = HEAD_DIM / SEG;
const uint TOKENS = 256 / SEGS;
const uint STEPS = 4;
const uint Q4 = SEG / 4 + 1;                          // padded against bank conflicts
shared vec4 qs[PER_KV * SEGS * Q4];
shared float red[SHUFFLE == 1u ? 1u : 256u * PER_KV];

void main() {
    uint lid = gl_LocalInvocationID.x;
    uint kvh = gl_WorkGroupID.y;
    uint h0 = kvh * PER_KV;
    for (uint i = lid; i < PER_KV * HEAD_DIM; i += 256u) {
        uint j = i / HEAD_DIM;
        uint c = i % HEAD_DIM;
        qs[(j * SEGS + c / SEG) * Q4 + (c % SEG) / 4u][c & 3u] = q[pc.qBase + h0 * HEAD_DIM + i];
    }
    barrier();
    uint tl = lid / SEGS;
    uint sg = lid % SEGS;
    for (uint step = 0u; step < STEPS; step++) {
        uint first = (gl_WorkGroupID.x * STEPS + step) * TOKENS;
        uint t = first + tl;
        float acc[MAX_PER_KV];
        for (uint j = 0u; j < PER_KV; j++) {
            acc[j] = 0.0;
        }
        if (tl < TOKENS && t < pc.n) {
            uint row = pc.kBase + kvh * pc.headStride + t * pc.tokenStride;
            for (uint k = 0u; k < SEG / 4u; k++) {
                uint c = sg * SEG + 4u * k;
                vec4 key = HALF == 1u
                        ? vec4(unpackHalf2x16(cache[row + c / 2u]), unpackHalf2x16(cache[row + c / 2u + 1u]))
                        : uintBitsToFloat(uvec4(cache[row + c], cache[row + c + 1u], cache[row + c + 2u], cache[row + c + 3u]));
                for (uint j = 0u; j < PER_KV; j++) {
                    acc[j] += dot(qs[(j * SEGS + sg) * Q4 + k], key);
                }
            }
        }
        if (SHUFFLE == 1u) {
            for (uint m = 1u; m < SEGS; m <<= 1) {
                for (uint j = 0u; j < PER_KV; j++) {
                    acc[j] += subgroupShuffleXor(acc[j], m);
                }
            }
            if (t < pc.n) {
                for (uint j = sg; j < PER_KV; j += SEGS) {
                    scores[(h0 + j) * pc.scoreStride + t] = acc[j] * pc.scale;
                }
            }
            continue;
        }
        for (uint j = 0u; j < PER_KV; j++) {
            red[lid * PER_KV + j] = acc[j];
        }
        barrier();
        for (uint k = lid; k < TOKENS * PER_KV; k += 256u) {
            uint tt = k / PER_KV;
            uint j = k % PER_KV;
            uint token = first + tt;
            if (token < pc.n) {
                float s = 0.0;
                for (uint g = 0u; g < SEGS; g++) {
                    s += red[(tt * SEGS + g) * PER_KV + j];
                }
                scores[(h0 + j) * pc.scoreStride + token] = s * pc.scale;
            }
        }
        barrier();
    }
}
