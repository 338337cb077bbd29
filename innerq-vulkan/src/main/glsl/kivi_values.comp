#version 450
// KIVI p.V for the query heads of one KV head (workgroup y), split over chunks of CHUNK tokens (workgroup x):
// partial[x][h][c] = sum over the chunk's tokens t of p[h][t] * V[t][c]; reduce_chunks adds the chunks. Quantized
// values [0, vEnd) have every element dequantized, v = s * code + z, before its multiply-add (scale and zero point per
// token over a group of GROUP channels, so they change along the tokens summed over); the residual [vEnd, n) is fp32.
// Group (kvHead, t, channelGroup) has index g = (kvHead * maxValueTokens + t) * GROUPS + channelGroup: codes at
// codes + g * WORDS, fp16 scale and zero point at element g of their arrays; residual token t at ringV + (kvHead
// * valueSlots + t % valueSlots) * HEAD_DIM. A thread takes one channel for all PER_KV heads (V read once per KV head;
// adjacent threads: adjacent channels, which share code words, scales and zero points, converted per element with
// unpackHalf2x16, exact, as KIVI's kernels convert theirs) and a 1/SPLIT share of the chunk's tokens; the chunk's
// probabilities are staged in shared memory, the shares summed there.
layout(local_size_x_id = 5) in;                       // HEAD_DIM * SPLIT threads
layout(constant_id = 0) const uint HEAD_DIM = 128;
layout(constant_id = 1) const uint PER_KV = 4;
layout(constant_id = 2) const uint GROUP = 32;
layout(constant_id = 3) const uint BITS = 2;
layout(constant_id = 4) const uint CHUNK = 256;
layout(constant_id = 5) const uint THREADS = 256;
layout(std430, binding = 0) readonly buffer Cache { uint cache[]; };
layout(std430, binding = 1) readonly buffer Probs { float p[]; };
layout(std430, binding = 2) writeonly buffer Partial { float partial[]; };
layout(push_constant) uniform Push {
    uint n; uint vEnd; uint valueSlots; uint maxValueTokens; uint ringV; uint codes; uint scales; uint zeros;
    uint scoreStride; uint heads;
} pc;

const uint MAX_PER_KV = 8;
const uint SPLIT = THREADS / HEAD_DIM;
const uint SHARE = CHUNK / SPLIT;
const uint GROUPS = HEAD_DIM / GROUP;
const uint WORDS = (GROUP * BITS + 31u) / 32u;
const uint MASK = (1u << BITS) - 1u;
shared vec4 ps[PER_KV * CHUNK / 4];
shared float red[THREADS * PER_KV];

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
    uint quantized = pc.vEnd > first ? min(end, pc.vEnd - first) : 0u;
    // this channel's field in every group of its channel group: the same word and shift for all tokens
    uint bit = (c % GROUP) * BITS;
    uint word = bit >> 5;
    uint shift = bit & 31u;
    bool straddles = shift + BITS > 32u;
    uint g0 = (kvh * pc.maxValueTokens + first) * GROUPS + c / GROUP;
    uint tt = begin;
    for (; tt < quantized; tt++) {
        uint g = g0 + tt * GROUPS;
        uint at = pc.codes + g * WORDS + word;
        uint f = cache[at] >> shift;
        if (straddles) {
            f |= cache[at + 1u] << (32u - shift);
        }
        float s = abs(unpackHalf2x16(cache[pc.scales + (g >> 1)])[g & 1u]);   // abs: the asymmetric flag
        float z = unpackHalf2x16(cache[pc.zeros + (g >> 1)])[g & 1u];
        float v = s * (uintBitsToFloat(0x4B000000u | (f & MASK)) - 8388608.0) + z;   // exact, no int-to-float conversion
        for (uint j = 0u; j < PER_KV; j++) {
            acc[j] += ps[(j * CHUNK + tt) / 4u][tt & 3u] * v;
        }
    }
    for (; tt < end; tt++) {
        uint t = first + tt;
        float v = uintBitsToFloat(cache[pc.ringV + (kvh * pc.valueSlots + t % pc.valueSlots) * HEAD_DIM + c]);
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
