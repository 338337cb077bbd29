#version 450
// p.V over a dense fp32 or fp16 cache, split over chunks of CHUNK tokens (workgroup x) and KV heads (workgroup y):
// partial[x][h][c] = sum over the chunk's tokens t of p[h][t] * V[t][c]; reduce_chunks adds the chunks. A thread
// takes one channel for all PER_KV heads (V read once per KV head) and a 1/SPLIT share of the chunk's tokens; the
// chunk's probabilities are staged in shared memory, the SPLIT shares summed there.
layout(local_size_x_id = 4) in;                       // HEAD_DIM * SPLIT threads
layout(constant_id = 0) const uint HEAD_DIM = 128;
layout(constant_id = 1) const uint PER_KV = 4;
layout(constant_id = 2) const uint HALF = 0;
layout(constant_id = 3) const uint CHUNK = 256;       // a multiple of 4 * SPLIT
layout(constant_id = 4) const uint THREADS = 256;
layout(std430, binding = 0) readonly buffer Cache { uint cache[]; };
layout(std430, binding = 1) readonly buffer Probs { float p[]; };
layout(std430, binding = 2) writeonly buffer Partial { float partial[]; };
layout(push_constant) uniform Push {
    uint n; uint vBase; uint headStride; uint tokenStride; uint scoreStride; uint heads;
} pc;

const uint MAX_PER_KV = 8;
const uint SPLIT = THREADS / HEAD_DIM;
const uint SHARE = CHUNK / SPLIT;                     // tokens per thread
shared vec4 ps[PER_KV * CHUNK / 4];
shared float red[THREADS * PER_KV];

float value(uint row, uint c) {
    return HALF == 1u ? unpackHalf2x16(cache[row + c / 2u])[c & 1u] : uintBitsToFloat(cache[row + c]);
}

void main() {
    uint lid = gl_LocalInvocationID.x;
    uint c = lid % HEAD_DIM;
    uint sub = lid / HEAD_DIM;
    uint kvh = gl_WorkGroupID.y;
    uint h0 = kvh * PER_KV;
    uint first = gl_WorkGroupID.x * CHUNK;
    uint count = min(CHUNK, pc.n - first);
    for (uint i = lid; i < PER_KV * CHUNK; i += THREADS) {
        uint j = i / CHUNK;
        uint tt = i % CHUNK;
        ps[i / 4u][i & 3u] = tt < count ? p[(h0 + j) * pc.scoreStride + first + tt] : 0.0;
    }
    barrier();
    float acc[MAX_PER_KV];
    for (uint j = 0u; j < PER_KV; j++) {
        acc[j] = 0.0;
    }
    uint begin = sub * SHARE;
    uint end = min(begin + SHARE, count);
    uint row = pc.vBase + kvh * pc.headStride + first * pc.tokenStride;
    uint tt = begin;
    for (; tt + 4u <= end; tt += 4u) {
        uint r = row + tt * pc.tokenStride;
        vec4 v = vec4(value(r, c), value(r + pc.tokenStride, c),
                      value(r + 2u * pc.tokenStride, c), value(r + 3u * pc.tokenStride, c));
        for (uint j = 0u; j < PER_KV; j++) {
            acc[j] += dot(ps[(j * CHUNK + tt) / 4u], v);
        }
    }
    for (; tt < end; tt++) {
        float v = value(row + tt * pc.tokenStride, c);
        for (uint j = 0u; j < PER_KV; j++) {
            acc[j] += ps[(j * CHUNK + tt) / 4u][tt & 3u] * v;
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
