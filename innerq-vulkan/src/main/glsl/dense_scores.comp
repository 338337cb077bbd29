#version 450
// q.K^T over a dense fp32 or fp16 cache: scores[h][t] = scale * q_h . K[t] for the query heads of one KV head
// (workgroup y), tokens [0, n). A thread takes SEG channels of one token for all PER_KV heads, so the cache is read
// once per KV head; partial dot products meet in shared memory. Word (t, kvHead, c) of K: kBase + kvHead * headStride
// + t * tokenStride + c (fp32) or + c / 2 (fp16, two per word).
layout(local_size_x = 256) in;
layout(constant_id = 0) const uint HEAD_DIM = 128;
layout(constant_id = 1) const uint PER_KV = 4;
layout(constant_id = 2) const uint HALF = 0;
layout(constant_id = 3) const uint SEG = 32;          // channels per thread; divides HEAD_DIM
layout(std430, binding = 0) readonly buffer Cache { uint cache[]; };
layout(std430, binding = 1) readonly buffer Query { float q[]; };
layout(std430, binding = 2) writeonly buffer Scores { float scores[]; };
layout(push_constant) uniform Push {
    uint n; uint kBase; uint headStride; uint tokenStride; uint scoreStride; float scale; uint qBase;
} pc;

const uint MAX_PER_KV = 8;
shared float qs[MAX_PER_KV * 256];
shared float red[256 * MAX_PER_KV];

void main() {
    const uint segs = HEAD_DIM / SEG;
    const uint tokensPerGroup = 256 / segs;
    uint lid = gl_LocalInvocationID.x;
    uint kvh = gl_WorkGroupID.y;
    uint h0 = kvh * PER_KV;
    for (uint i = lid; i < PER_KV * HEAD_DIM; i += 256u) {
        qs[i] = q[pc.qBase + h0 * HEAD_DIM + i];
    }
    barrier();
    uint tl = lid / segs;
    uint sg = lid % segs;
    uint t = gl_WorkGroupID.x * tokensPerGroup + tl;
    float acc[MAX_PER_KV];
    for (uint j = 0; j < PER_KV; j++) {
        acc[j] = 0.0;
    }
    if (tl < tokensPerGroup && t < pc.n) {
        uint row = pc.kBase + kvh * pc.headStride + t * pc.tokenStride;
        uint c0 = sg * SEG;
        if (HALF == 1u) {
            for (uint c = c0; c < c0 + SEG; c += 2u) {
                vec2 k = unpackHalf2x16(cache[row + c / 2u]);
                for (uint j = 0; j < PER_KV; j++) {
                    acc[j] += qs[j * HEAD_DIM + c] * k.x + qs[j * HEAD_DIM + c + 1u] * k.y;
                }
            }
        } else {
            for (uint c = c0; c < c0 + SEG; c++) {
                float k = uintBitsToFloat(cache[row + c]);
                for (uint j = 0; j < PER_KV; j++) {
                    acc[j] += qs[j * HEAD_DIM + c] * k;
                }
            }
        }
    }
    for (uint j = 0; j < PER_KV; j++) {
        red[lid * PER_KV + j] = acc[j];
    }
    barrier();
    for (uint k = lid; k < tokensPerGroup * PER_KV; k += 256u) {
        uint tt = k / PER_KV;
        uint j = k % PER_KV;
        uint token = gl_WorkGroupID.x * tokensPerGroup + tt;
        if (token < pc.n) {
            float s = 0.0;
            for (uint g = 0u; g < segs; g++) {
                s += red[(tt * segs + g) * PER_KV + j];
            }
            scores[(h0 + j) * pc.scoreStride + token] = s * pc.scale;
        }
    }
}
