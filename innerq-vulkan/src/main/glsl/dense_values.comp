#version 450
// p.V over a dense fp32 or fp16 cache, split over chunks of CHUNK tokens (workgroup x) and KV heads (workgroup y):
// partial[x][h][c] = sum over the chunk's tokens t of p[h][t] * V[t][c]; reduce_chunks adds the chunks. One thread
// per channel reads V once for all PER_KV heads; the chunk's probabilities are staged in shared memory.
layout(local_size_x_id = 0) in;                       // HEAD_DIM threads
layout(constant_id = 0) const uint HEAD_DIM = 128;
layout(constant_id = 1) const uint PER_KV = 4;
layout(constant_id = 2) const uint HALF = 0;
layout(constant_id = 3) const uint CHUNK = 256;
layout(std430, binding = 0) readonly buffer Cache { uint cache[]; };
layout(std430, binding = 1) readonly buffer Probs { float p[]; };
layout(std430, binding = 2) writeonly buffer Partial { float partial[]; };
layout(push_constant) uniform Push {
    uint n; uint vBase; uint headStride; uint tokenStride; uint scoreStride; uint heads;
} pc;

const uint MAX_PER_KV = 8;
shared float ps[MAX_PER_KV * CHUNK];

void main() {
    uint c = gl_LocalInvocationID.x;
    uint kvh = gl_WorkGroupID.y;
    uint h0 = kvh * PER_KV;
    uint first = gl_WorkGroupID.x * CHUNK;
    uint count = min(CHUNK, pc.n - first);
    for (uint i = c; i < PER_KV * CHUNK; i += HEAD_DIM) {
        uint j = i / CHUNK;
        uint tt = i % CHUNK;
        ps[i] = tt < count ? p[(h0 + j) * pc.scoreStride + first + tt] : 0.0;
    }
    barrier();
    float acc[MAX_PER_KV];
    for (uint j = 0; j < PER_KV; j++) {
        acc[j] = 0.0;
    }
    uint row = pc.vBase + kvh * pc.headStride + first * pc.tokenStride;
    for (uint tt = 0; tt < count; tt++) {
        float v = HALF == 1u
                ? unpackHalf2x16(cache[row + tt * pc.tokenStride + c / 2u])[c & 1u]
                : uintBitsToFloat(cache[row + tt * pc.tokenStride + c]);
        for (uint j = 0; j < PER_KV; j++) {
            acc[j] += ps[j * CHUNK + tt] * v;
        }
    }
    for (uint j = 0; j < PER_KV; j++) {
        partial[(gl_WorkGroupID.x * pc.heads + h0 + j) * HEAD_DIM + c] = acc[j];
    }
}
