#version 450
// q.K^T over a dense fp32 or fp16 cache: scores[h][t] = scale * q_h . K[t] for the query heads of one KV head
// (workgroup y), tokens [0, n). A thread takes SEG channels of one token for all PER_KV heads (its slice of q stays
// in registers), so the cache is read once per KV head, in 16-byte loads, adjacent threads reading adjacent bytes.
// The SEGS threads of a token add their parts by subgroup shuffles (SHUFFLE) or in shared memory. A workgroup takes
// STEPS * TOKENS consecutive tokens. Word (t, kvHead, c) of K: kBase + kvHead * headStride + t * tokenStride + c
// (fp32) or + c / 2 (fp16, two per word); kBase, headStride and tokenStride are multiples of 4 words.
#extension GL_KHR_shader_subgroup_shuffle : require
layout(local_size_x_id = 6) in;                       // THREADS
layout(constant_id = 0) const uint HEAD_DIM = 128;
layout(constant_id = 1) const uint PER_KV = 4;
layout(constant_id = 2) const uint HALF = 0;
layout(constant_id = 3) const uint SEG = 8;           // channels per thread: 8 (fp16) or 4 (fp32), or HEAD_DIM if less
layout(constant_id = 4) const uint SHUFFLE = 1;
layout(constant_id = 5) const uint STEPS = 4;
layout(constant_id = 6) const uint THREADS = 256;
layout(std430, binding = 0) readonly buffer Cache { uvec4 cache[]; };
layout(std430, binding = 1) readonly buffer Query { vec4 q[]; };
layout(std430, binding = 2) writeonly buffer Scores { float scores[]; };
layout(push_constant) uniform Push {
    uint n; uint kBase; uint headStride; uint tokenStride; uint scoreStride; float scale; uint qBase;
} pc;

const uint MAX_PER_KV = 8;
const uint SEGS = HEAD_DIM / SEG;
const uint TOKENS = THREADS / SEGS;
const uint VECS = SEG / 4;                            // vec4s of q per head in a thread's slice
shared float red[SHUFFLE == 1u ? 1u : THREADS * PER_KV];

void main() {
    uint lid = gl_LocalInvocationID.x;
    uint kvh = gl_WorkGroupID.y;
    uint h0 = kvh * PER_KV;
    uint tl = lid / SEGS;
    uint sg = lid % SEGS;
    vec4 qr[MAX_PER_KV * 2];
    for (uint j = 0u; j < PER_KV; j++) {
        for (uint k = 0u; k < VECS; k++) {
            qr[j * VECS + k] = q[(pc.qBase + (h0 + j) * HEAD_DIM + sg * SEG) / 4u + k];
        }
    }
    for (uint step = 0u; step < STEPS; step++) {
        uint first = (gl_WorkGroupID.x * STEPS + step) * TOKENS;
        uint t = first + tl;
        float acc[MAX_PER_KV];
        for (uint j = 0u; j < PER_KV; j++) {
            acc[j] = 0.0;
        }
        if (t < pc.n) {
            uint row = pc.kBase + kvh * pc.headStride + t * pc.tokenStride;   // words
            if (HALF == 1u) {
                uvec4 w = cache[(row + sg * SEG / 2u) / 4u];          // SEG = 8: eight halves
                vec4 a = vec4(unpackHalf2x16(w.x), unpackHalf2x16(w.y));
                vec4 b = vec4(unpackHalf2x16(w.z), unpackHalf2x16(w.w));
                for (uint j = 0u; j < PER_KV; j++) {
                    acc[j] = dot(qr[j * 2u], a) + dot(qr[j * 2u + 1u], b);
                }
            } else {
                vec4 k = uintBitsToFloat(cache[(row + sg * SEG) / 4u]); // SEG = 4
                for (uint j = 0u; j < PER_KV; j++) {
                    acc[j] = dot(qr[j], k);
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
            red[j * THREADS + lid] = acc[j];
        }
        barrier();
        for (uint k = lid; k < TOKENS * PER_KV; k += THREADS) {
            uint j = k / TOKENS;
            uint tt = k % TOKENS;
            uint token = first + tt;
            if (token < pc.n) {
                float s = 0.0;
                for (uint g = 0u; g < SEGS; g++) {
                    s += red[j * THREADS + tt * SEGS + g];
                }
                scores[(h0 + j) * pc.scoreStride + token] = s * pc.scale;
            }
        }
        barrier();
    }
}
