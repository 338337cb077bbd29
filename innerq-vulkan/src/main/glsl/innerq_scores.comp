#version 450
// InnerQ q.K^T for the query heads of one KV head (workgroup y) over tokens [0, n): the sink [0, sinkEnd) and the
// window [kEnd, n) in fp32 with q; the quantized keys [sink, kEnd) as s * dot(codes, q * f) per group of GROUP
// channels (+ z * sum(q * f) for an asymmetric group): one scale per group, applied to the partial sum. A thread
// takes one group (GROUP channels) of two tokens, t and t + TOKENS, for all PER_KV heads: the cache is read once per
// KV head, each q * f read from shared memory serves both tokens, and both tokens' loads are in flight together. The
// groups of a token add up by subgroup shuffles (SHUFFLE) or in shared memory. A workgroup takes STEPS * 2 * TOKENS
// consecutive tokens.
// With SHUFFLE the GROUPS threads of a token (adjacent, in one subgroup) add their parts by subgroup shuffles;
// otherwise through shared memory.
#extension GL_KHR_shader_subgroup_shuffle : require
#include "common.glsl"
layout(local_size_x_id = 8) in;                   // THREADS
layout(constant_id = 0) const uint HEAD_DIM = 128;
layout(constant_id = 1) const uint PER_KV = 4;
layout(constant_id = 2) const uint GROUP = 32;
layout(constant_id = 3) const uint BITS = 3;
layout(constant_id = 4) const uint MODE = 0;
layout(constant_id = 5) const uint NORM = 1;
layout(constant_id = 6) const uint SHUFFLE = 1;
layout(constant_id = 7) const uint STEPS = 4;          // steps of TOKENS tokens a workgroup takes
layout(constant_id = 8) const uint THREADS = 256;
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
const uint TOKENS = THREADS / GROUPS;             // tokens per step

const uint WORDS = (GROUP * BITS + 31u) / 32u;
const uint Q4 = GROUP / 4 + 1;                    // vec4s per (head, group) in shared memory, padded against bank conflicts
shared vec4 qs[PER_KV * GROUPS * Q4];             // q
shared vec4 qf[PER_KV * GROUPS * Q4];             // q * f
shared float qsum[PER_KV * GROUPS];               // sum of q * f per key group
shared float red[SHUFFLE == 1u ? 1u : THREADS * PER_KV];

// Code i of the group at word base (i constant after unrolling: 2-, 4- and 8-bit codes never straddle words).
float code(uint base, uint i, bool signedCodes) {
    return codeValue(fieldAt(base, i, BITS), BITS, signedCodes);
}

// Groups of up to 8 words are loaded into registers before use (both tokens' loads in flight at once).
const bool AHEAD = WORDS <= 8u;

// Code i of a group held in registers.
float codeIn(uint w[8], uint i, bool signedCodes) {
    uint bit = i * BITS;
    uint word = bit >> 5;
    uint shift = bit & 31u;
    uint f = w[word] >> shift;
    if (shift + BITS > 32u) {
        f |= w[word + 1u] << (32u - shift);
    }
    return codeValue(f & ((1u << BITS) - 1u), BITS, signedCodes);
}

// The words and stored scale of token t's group kg when t is a quantized key (scale 0 and no loads otherwise).
void fetch(uint t, uint kvh, uint kg, out uint w[8], out uint scaleBits) {
    scaleBits = 0u;
    for (uint k = 0u; k < 8u; k++) {
        w[k] = 0u;
    }
    if (AHEAD && t < pc.n && t >= pc.sinkEnd && t < pc.kEnd) {
        uint g = (kvh * pc.maxKeyTokens + t - pc.sink) * GROUPS + kg;
        for (uint k = 0u; k < WORDS; k++) {
            w[k] = cache[pc.codes + g * WORDS + k];
        }
        scaleBits = halfAt(pc.scales, g);
    }
}

// Adds token t's scores (one group, all heads) to acc: quantized from registers (w, scaleBits) or from the buffer, or
// the fp32 sink or window.
void tokenScores(uint t, uint kvh, uint kg, uint w[8], uint scaleBits, inout float acc[MAX_PER_KV]) {
    if (t >= pc.sinkEnd && t < pc.kEnd) {
        uint g = (kvh * pc.maxKeyTokens + t - pc.sink) * GROUPS + kg;
        uint base = pc.codes + g * WORDS;
        uint sb = AHEAD ? scaleBits : halfAt(pc.scales, g);
        bool sym = (sb & ASYMMETRIC_FLAG) == 0u;
        float part[MAX_PER_KV];
        for (uint j = 0u; j < PER_KV; j++) {
            part[j] = 0.0;
        }
        for (uint k = 0u; k < GROUP / 4u; k++) {
            vec4 c = AHEAD
                    ? vec4(codeIn(w, 4u * k, sym), codeIn(w, 4u * k + 1u, sym),
                           codeIn(w, 4u * k + 2u, sym), codeIn(w, 4u * k + 3u, sym))
                    : vec4(code(base, 4u * k, sym), code(base, 4u * k + 1u, sym),
                           code(base, 4u * k + 2u, sym), code(base, 4u * k + 3u, sym));
            for (uint j = 0u; j < PER_KV; j++) {
                part[j] += dot(qf[(j * GROUPS + kg) * Q4 + k], c);
            }
        }
        float s = f16(sb & 0x7FFFu);
        float z = sym ? 0.0 : f16(halfAt(pc.zeros, g));
        for (uint j = 0u; j < PER_KV; j++) {
            acc[j] += s * part[j] + (sym ? 0.0 : z * qsum[j * GROUPS + kg]);
        }
    } else {
        uint row = t < pc.sinkEnd
                ? pc.sinkK + (kvh * pc.sinkSlots + t) * HEAD_DIM
                : pc.ringK + (kvh * pc.ringSlots + (t - pc.sink) % pc.ringSlots) * HEAD_DIM;
        row += kg * GROUP;
        for (uint k = 0u; k < GROUP / 4u; k++) {
            vec4 key = uintBitsToFloat(uvec4(cache[row + 4u * k], cache[row + 4u * k + 1u],
                                             cache[row + 4u * k + 2u], cache[row + 4u * k + 3u]));
            for (uint j = 0u; j < PER_KV; j++) {
                acc[j] += dot(qs[(j * GROUPS + kg) * Q4 + k], key);
            }
        }
    }
}

// Adds the GROUPS parts of each of the step's tokens [first, first + TOKENS) and writes their scores.
void finish(uint first, uint lid, uint tl, uint kg, uint h0, inout float acc[MAX_PER_KV]) {
    uint t = first + tl;
    if (SHUFFLE == 1u) {
        for (uint m = 1u; m < GROUPS; m <<= 1) {
            for (uint j = 0u; j < PER_KV; j++) {
                acc[j] += subgroupShuffleXor(acc[j], m);
            }
        }
        if (tl < TOKENS && t < pc.n) {
            for (uint j = kg; j < PER_KV; j += GROUPS) {
                scores[(h0 + j) * pc.scoreStride + t] = acc[j] * pc.scale;
            }
        }
        return;
    }
    for (uint j = 0u; j < PER_KV; j++) {
        red[lid * PER_KV + j] = acc[j];
    }
    barrier();
    for (uint k = lid; k < TOKENS * PER_KV; k += THREADS) {
        uint tt = k / PER_KV;
        uint j = k % PER_KV;
        uint token = first + tt;
        if (token < pc.n) {
            float s = 0.0;
            for (uint g = 0u; g < GROUPS; g++) {
                s += red[(tt * GROUPS + g) * PER_KV + j];
            }
            scores[(h0 + j) * pc.scoreStride + token] = s * pc.scale;
        }
    }
    barrier();
}

void main() {
    uint lid = gl_LocalInvocationID.x;
    uint kvh = gl_WorkGroupID.y;
    uint h0 = kvh * PER_KV;
    for (uint i = lid; i < PER_KV * HEAD_DIM; i += THREADS) {
        uint j = i / HEAD_DIM;
        uint c = i % HEAD_DIM;
        uint at = (j * GROUPS + c / GROUP) * Q4 + (c % GROUP) / 4u;
        float x = q[pc.qBase + h0 * HEAD_DIM + i];
        qs[at][c & 3u] = x;
        qf[at][c & 3u] = NORM == 1u ? x * uintBitsToFloat(cache[pc.factors + kvh * HEAD_DIM + c]) : x;
    }
    barrier();
    if (MODE != 0u) {
        for (uint i = lid; i < PER_KV * GROUPS; i += THREADS) {
            vec4 s = vec4(0.0);
            for (uint k = 0u; k < GROUP / 4u; k++) {
                s += qf[i * Q4 + k];
            }
            qsum[i] = s.x + s.y + s.z + s.w;
        }
        barrier();
    }
    uint tl = lid / GROUPS;
    uint kg = lid % GROUPS;
    for (uint step = 0u; step < STEPS; step++) {
        uint first = (gl_WorkGroupID.x * STEPS + step) * 2u * TOKENS;
        uint ta = first + tl;
        uint tb = ta + TOKENS;
        bool live = tl < TOKENS;
        uint wa[8];
        uint wb[8];
        uint sa;
        uint sb;
        fetch(live ? ta : pc.n, kvh, kg, wa, sa);
        fetch(live ? tb : pc.n, kvh, kg, wb, sb);
        float accA[MAX_PER_KV];
        float accB[MAX_PER_KV];
        for (uint j = 0u; j < PER_KV; j++) {
            accA[j] = 0.0;
            accB[j] = 0.0;
        }
        bool quantA = live && ta < pc.n && ta >= pc.sinkEnd && ta < pc.kEnd;
        bool quantB = live && tb < pc.n && tb >= pc.sinkEnd && tb < pc.kEnd;
        if (AHEAD && quantA && quantB) {             // the common case: both quantized, q * f read once for both
            bool symA = (sa & ASYMMETRIC_FLAG) == 0u;
            bool symB = (sb & ASYMMETRIC_FLAG) == 0u;
            float pa[MAX_PER_KV];
            float pb[MAX_PER_KV];
            for (uint j = 0u; j < PER_KV; j++) {
                pa[j] = 0.0;
                pb[j] = 0.0;
            }
            for (uint k = 0u; k < GROUP / 4u; k++) {
                vec4 ca = vec4(codeIn(wa, 4u * k, symA), codeIn(wa, 4u * k + 1u, symA),
                               codeIn(wa, 4u * k + 2u, symA), codeIn(wa, 4u * k + 3u, symA));
                vec4 cb = vec4(codeIn(wb, 4u * k, symB), codeIn(wb, 4u * k + 1u, symB),
                               codeIn(wb, 4u * k + 2u, symB), codeIn(wb, 4u * k + 3u, symB));
                for (uint j = 0u; j < PER_KV; j++) {
                    vec4 x = qf[(j * GROUPS + kg) * Q4 + k];
                    pa[j] += dot(x, ca);
                    pb[j] += dot(x, cb);
                }
            }
            float scaleA = f16(sa & 0x7FFFu);
            float scaleB = f16(sb & 0x7FFFu);
            uint ga = (kvh * pc.maxKeyTokens + ta - pc.sink) * GROUPS + kg;
            uint gb = ga + TOKENS * GROUPS;
            float za = symA ? 0.0 : f16(halfAt(pc.zeros, ga));
            float zb = symB ? 0.0 : f16(halfAt(pc.zeros, gb));
            for (uint j = 0u; j < PER_KV; j++) {
                float sum = MODE != 0u ? qsum[j * GROUPS + kg] : 0.0;
                accA[j] = scaleA * pa[j] + za * sum;
                accB[j] = scaleB * pb[j] + zb * sum;
            }
        } else {
            if (live && ta < pc.n) {
                tokenScores(ta, kvh, kg, wa, sa, accA);
            }
            if (live && tb < pc.n) {
                tokenScores(tb, kvh, kg, wb, sb, accB);
            }
        }
        finish(first, lid, tl, kg, h0, accA);
        finish(first + TOKENS, lid, tl, kg, h0, accB);
    }
}
