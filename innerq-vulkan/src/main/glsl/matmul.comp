#version 450
// out[t][r] = sum_c W[r][c] * x[t][c] for a weight matrix in its stored GGML type, in the device layout of
// DeviceMatrix (TYPE: 0 F32, 1 F16, 2 BF16, 3 Q8_0, 4 Q4_0, 5 Q4_K, 6 Q6_K). x[t][c] = act[xBase + t*xStride + c],
// out[t][r] = act[outBase + t*outStride + r]; the two regions must not overlap.
//
// A workgroup takes ROWS consecutive rows and TOKENS consecutive tokens (workgroup z): its THREADS threads share
// the columns of every row, a thread taking "units" u, u + THREADS, ... of 16 bytes of codes (4 F32 values, 8 F16 or
// BF16, 16 Q8_0, 32 Q4_0 or Q4_K, 64 Q6_K; Q6_K reads 48 bytes per unit), adjacent threads reading adjacent units.
// Each weight is read once per workgroup and used for all TOKENS tokens (fp32 sums in registers); the threads add
// their sums with subgroupAdd and then in shared memory. Codes become floats without conversion instructions: a
// field of at most 23 bits or'ed into the mantissa of 2^23 gives 2^23 + field exactly, and subtracting 2^23 (plus
// the code's offset) is exact; fields taken in place keep their place value (16^k or 256^k), which the partial
// sums remove by exact powers of two.
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
layout(local_size_x_id = 0) in;                       // THREADS
layout(constant_id = 0) const uint THREADS = 128;
layout(constant_id = 1) const uint TYPE = 0;
layout(constant_id = 2) const uint ROWS = 2;          // rows per workgroup
layout(constant_id = 3) const uint TOKENS = 1;        // tokens per workgroup (one pass over the weights)
layout(constant_id = 4) const uint SUBGROUPS = 4;     // THREADS / subgroup size
layout(constant_id = 5) const uint XVEC = 0;          // 1: xBase and xStride are multiples of 4 (x read as vec4)

// Weights: DeviceMatrix's layout, 16-byte aligned regions; scales (fp16, two per word) from word scaleBase.
layout(std430, binding = 0) readonly buffer Weights { uvec4 w4[]; };
layout(std430, binding = 0) readonly buffer WeightWords { uint w1[]; };
// Activations: fp32, read as x and written as out.
layout(std430, binding = 1) buffer Act { float act[]; };
layout(std430, binding = 1) readonly buffer ActVec { vec4 act4[]; };
layout(push_constant) uniform Push {
    uint rows; uint cols; uint tokens; uint xBase; uint xStride; uint outBase; uint outStride; uint scaleBase;
} pc;

const uint F32 = 0u, F16 = 1u, BF16 = 2u, Q8_0 = 3u, Q4_0 = 4u, Q4_K = 5u, Q6_K = 6u;
const uint MAGIC = 0x4B000000u;                       // the bits of 2^23
const float M = 8388608.0;                            // 2^23

shared float red[ROWS * TOKENS * SUBGROUPS];
float acc[ROWS * TOKENS];

// Element c of token t's x, or 0 at and past column `limit` (the ragged tail of a float row).
vec4 x4(uint at) {
    return XVEC == 1u ? act4[at >> 2] : vec4(act[at], act[at + 1u], act[at + 2u], act[at + 3u]);
}

vec4 x4Tail(uint at, uint c) {
    return vec4(c < pc.cols ? act[at] : 0.0, c + 1u < pc.cols ? act[at + 1u] : 0.0,
                c + 2u < pc.cols ? act[at + 2u] : 0.0, c + 3u < pc.cols ? act[at + 3u] : 0.0);
}

float half16(uint i) {                                // fp16 scale i of the scale region
    return unpackHalf2x16(w1[pc.scaleBase + (i >> 1)] >> ((i & 1u) << 4)).x;
}

float mag(uint field) {                               // 2^23 + field, exactly
    return uintBitsToFloat(field | MAGIC);
}

// The four bytes of w, each an unsigned code u: (u0 - o, 256 (u1 - o), u2 - o, 256 (u3 - o)).
vec4 bytes(uint w, float o) {
    uint h = w >> 16;
    return vec4(mag(w & 0xFFu), mag(w & 0xFF00u), mag(h & 0xFFu), mag(h & 0xFF00u))
            - vec4(M + o, M + 256.0 * o, M + o, M + 256.0 * o);
}

const vec4 BYTE_PLACES = vec4(1.0, 1.0 / 256.0, 1.0, 1.0 / 256.0);

// The eight nibbles of w, each a code q: low nibbles of bytes 0..3 in lo, high nibbles in hi, as
// lo = (q0, 256 q1) and so on: a = (lo0, 16 hi0, 256 lo1, 4096 hi1), b = the same for bytes 2 and 3, minus o.
void nibbles(uint w, float o, out vec4 a, out vec4 b) {
    uint h = w >> 16;
    vec4 off = vec4(M + o, M + 16.0 * o, M + 256.0 * o, M + 4096.0 * o);
    a = vec4(mag(w & 0xFu), mag(w & 0xF0u), mag(w & 0xF00u), mag(w & 0xF000u)) - off;
    b = vec4(mag(h & 0xFu), mag(h & 0xF0u), mag(h & 0xF00u), mag(h & 0xF000u)) - off;
}

const vec4 NIBBLE_PLACES = vec4(1.0, 1.0 / 16.0, 1.0 / 256.0, 1.0 / 4096.0);

uint xRow(uint t0, uint t) {                          // first x element of token t0 + t (the last token past the end)
    return pc.xBase + min(t0 + t, pc.tokens - 1u) * pc.xStride;
}

void floatUnit(uint u, uint row0, uint t0) {          // F32 (4 values), F16 or BF16 (8 values)
    uint per = TYPE == F32 ? 4u : 8u;
    uint stride = (pc.cols + per - 1u) / per;         // uvec4 per row (zero padded)
    uint c = u * per;
    bool tail = c + per > pc.cols;
    uvec4 raw[ROWS];
    for (uint r = 0u; r < ROWS; r++) {
        raw[r] = w4[min(row0 + r, pc.rows - 1u) * stride + u];
    }
    for (uint t = 0u; t < TOKENS; t++) {
        uint at = xRow(t0, t) + c;
        vec4 xa = tail ? x4Tail(at, c) : x4(at);
        vec4 xb = vec4(0.0);
        if (TYPE != F32) {
            xb = tail ? x4Tail(at + 4u, c + 4u) : x4(at + 4u);
        }
        for (uint r = 0u; r < ROWS; r++) {
            uvec4 q = raw[r];
            float s;
            if (TYPE == F32) {
                s = dot(uintBitsToFloat(q), xa);
            } else if (TYPE == F16) {
                s = dot(vec4(unpackHalf2x16(q.x), unpackHalf2x16(q.y)), xa)
                        + dot(vec4(unpackHalf2x16(q.z), unpackHalf2x16(q.w)), xb);
            } else {
                uvec4 lo = q << 16;
                uvec4 hi = q & 0xFFFF0000u;
                s = dot(uintBitsToFloat(uvec4(lo.x, hi.x, lo.y, hi.y)), xa)
                        + dot(uintBitsToFloat(uvec4(lo.z, hi.z, lo.w, hi.w)), xb);
            }
            acc[r * TOKENS + t] += s;
        }
    }
}

void q8Unit(uint u, uint row0, uint t0) {             // half a block: 16 int8 codes, value d * q
    uint units = pc.cols / 16u;
    uvec4 raw[ROWS];
    float d[ROWS];
    for (uint r = 0u; r < ROWS; r++) {
        uint row = min(row0 + r, pc.rows - 1u);
        raw[r] = w4[row * units + u];
        d[r] = half16((row * units + u) >> 1);
    }
    for (uint r = 0u; r < ROWS; r++) {
        uvec4 q = raw[r] ^ 0x80808080u;               // q + 128, unsigned
        vec4 v0 = bytes(q.x, 128.0), v1 = bytes(q.y, 128.0), v2 = bytes(q.z, 128.0), v3 = bytes(q.w, 128.0);
        for (uint t = 0u; t < TOKENS; t++) {
            uint at = xRow(t0, t) + u * 16u;
            vec4 p = v0 * x4(at) + v1 * x4(at + 4u) + v2 * x4(at + 8u) + v3 * x4(at + 12u);
            acc[r * TOKENS + t] += d[r] * dot(p, BYTE_PLACES);
        }
    }
}

void q4Unit(uint u, uint row0, uint t0) {             // a block: 32 4-bit codes, value d * (q - 8)
    uint blocks = pc.cols / 32u;
    uvec4 raw[ROWS];
    float d[ROWS];
    for (uint r = 0u; r < ROWS; r++) {
        uint row = min(row0 + r, pc.rows - 1u);
        raw[r] = w4[row * blocks + u];
        d[r] = half16(row * blocks + u);
    }
    for (uint r = 0u; r < ROWS; r++) {
        vec4 a[4], b[4];                              // word i: elements 4i.. (low nibbles) and 16 + 4i.. (high)
        for (uint i = 0u; i < 4u; i++) {
            nibbles(raw[r][i], 8.0, a[i], b[i]);
        }
        for (uint t = 0u; t < TOKENS; t++) {
            uint at = xRow(t0, t) + u * 32u;
            vec4 p = vec4(0.0);
            for (uint i = 0u; i < 4u; i++) {
                vec4 lo = x4(at + 4u * i);
                vec4 hi = x4(at + 16u + 4u * i);
                p += a[i] * vec4(lo.x, hi.x, lo.y, hi.y) + b[i] * vec4(lo.z, hi.z, lo.w, hi.w);
            }
            acc[r * TOKENS + t] += d[r] * dot(p, NIBBLE_PLACES);
        }
    }
}

uint byteOf(uvec4 v, uint k) {                        // byte k (0..15) of v
    return (v[k >> 2] >> ((k & 3u) << 3)) & 0xFFu;
}

// Q4_K: unit u is 16 code bytes of a block of 144 bytes (9 uvec4: d and dmin, 12 bytes of 6-bit scales and mins,
// 128 code bytes). Part p = u % 8 of the block: chunk c = p / 2 of 64 elements, positions l0 = 16 (p % 2) ..+16;
// low nibbles belong to sub-block 2c (elements 64c + l), high nibbles to 2c + 1 (elements 64c + 32 + l).
void q4kUnit(uint u, uint row0, uint t0) {
    uint blocks = pc.cols / 256u;
    uint blk = u >> 3;
    uint part = u & 7u;
    uint c = part >> 1;
    uint l0 = (part & 1u) << 4;
    uvec4 raw[ROWS], head[ROWS];
    for (uint r = 0u; r < ROWS; r++) {
        uint base = (min(row0 + r, pc.rows - 1u) * blocks + blk) * 9u;
        head[r] = w4[base];
        raw[r] = w4[base + 1u + part];
    }
    for (uint r = 0u; r < ROWS; r++) {
        vec2 dm = unpackHalf2x16(head[r].x);          // d, dmin
        uvec4 s = uvec4(head[r].yzw, 0u);             // the 12 scale bytes
        uint j = 2u * c;                              // sub-blocks j (low nibbles) and j + 1 (high nibbles)
        uint scA, mA, scB, mB;
        if (j < 4u) {
            scA = byteOf(s, j) & 63u;
            mA = byteOf(s, j + 4u) & 63u;
            scB = byteOf(s, j + 1u) & 63u;
            mB = byteOf(s, j + 5u) & 63u;
        } else {
            scA = (byteOf(s, j + 4u) & 0xFu) | ((byteOf(s, j - 4u) >> 6) << 4);
            mA = (byteOf(s, j + 4u) >> 4) | ((byteOf(s, j) >> 6) << 4);
            scB = (byteOf(s, j + 5u) & 0xFu) | ((byteOf(s, j - 3u) >> 6) << 4);
            mB = (byteOf(s, j + 5u) >> 4) | ((byteOf(s, j + 1u) >> 6) << 4);
        }
        float dA = dm.x * float(scA), dB = dm.x * float(scB);
        float minA = dm.y * float(mA), minB = dm.y * float(mB);
        vec4 a[4], b[4];
        for (uint i = 0u; i < 4u; i++) {
            nibbles(raw[r][i], 0.0, a[i], b[i]);
        }
        for (uint t = 0u; t < TOKENS; t++) {
            uint at = xRow(t0, t) + blk * 256u + c * 64u + l0;
            vec4 p = vec4(0.0);
            vec4 sum = vec4(0.0);
            for (uint i = 0u; i < 4u; i++) {
                vec4 lo = x4(at + 4u * i);
                vec4 hi = x4(at + 32u + 4u * i);
                p += a[i] * vec4(lo.x, hi.x, lo.y, hi.y) + b[i] * vec4(lo.z, hi.z, lo.w, hi.w);
                sum += vec4(lo.xy + lo.zw, hi.xy + hi.zw);
            }
            float sumA = p.x + p.z * (1.0 / 256.0);
            float sumB = p.y * (1.0 / 16.0) + p.w * (1.0 / 4096.0);
            acc[r * TOKENS + t] += dA * sumA - minA * (sum.x + sum.y) + dB * sumB - minB * (sum.z + sum.w);
        }
    }
}

// Q6_K: a block is 13 uvec4 (ql[128], qh[64], int8 scales[16]) and an fp16 d in the scale region. Unit u is part
// p = u % 4: half h = p / 2 (128 elements), positions l0 = 16 (p % 2) ..+16; for each l it yields elements
// 128h + l + 32k, k < 4, from the nibbles of ql[64h + l] and ql[64h + 32 + l] and bit pairs of qh[32h + l].
void q6kUnit(uint u, uint row0, uint t0) {
    uint blocks = pc.cols / 256u;
    uint blk = u >> 2;
    uint h = (u >> 1) & 1u;
    uint odd = u & 1u;
    uvec4 qa[ROWS], qb[ROWS], qh[ROWS], sc[ROWS];
    float d[ROWS];
    for (uint r = 0u; r < ROWS; r++) {
        uint b = min(row0 + r, pc.rows - 1u) * blocks + blk;
        uint base = b * 13u;
        qa[r] = w4[base + 4u * h + odd];
        qb[r] = w4[base + 4u * h + 2u + odd];
        qh[r] = w4[base + 8u + 2u * h + odd];
        sc[r] = w4[base + 12u];
        d[r] = half16(b);
    }
    for (uint r = 0u; r < ROWS; r++) {
        vec4 v[16];                                   // [k * 4 + i]: code bytes of element group k, word i
        for (uint i = 0u; i < 4u; i++) {
            uint A = qa[r][i], B = qb[r][i], H = qh[r][i];
            v[i] = bytes((A & 0x0F0F0F0Fu) | ((H << 4) & 0x30303030u), 32.0);
            v[4u + i] = bytes((B & 0x0F0F0F0Fu) | ((H << 2) & 0x30303030u), 32.0);
            v[8u + i] = bytes(((A >> 4) & 0x0F0F0F0Fu) | (H & 0x30303030u), 32.0);
            v[12u + i] = bytes(((B >> 4) & 0x0F0F0F0Fu) | ((H >> 2) & 0x30303030u), 32.0);
        }
        float s[4];
        for (uint k = 0u; k < 4u; k++) {
            s[k] = d[r] * float(int(byteOf(sc[r], 8u * h + odd + 2u * k) << 24) >> 24);
        }
        for (uint t = 0u; t < TOKENS; t++) {
            uint at = xRow(t0, t) + blk * 256u + h * 128u + odd * 16u;
            float total = 0.0;
            for (uint k = 0u; k < 4u; k++) {
                vec4 p = vec4(0.0);
                for (uint i = 0u; i < 4u; i++) {
                    p += v[k * 4u + i] * x4(at + 32u * k + 4u * i);
                }
                total += s[k] * dot(p, BYTE_PLACES);
            }
            acc[r * TOKENS + t] += total;
        }
    }
}

uint unitsPerRow() {
    switch (TYPE) {
        case F32: return (pc.cols + 3u) / 4u;
        case F16: case BF16: return (pc.cols + 7u) / 8u;
        case Q8_0: return pc.cols / 16u;
        case Q6_K: return pc.cols / 64u;
        default: return pc.cols / 32u;                // Q4_0, Q4_K
    }
}

void main() {
    uint groups = (pc.rows + ROWS - 1u) / ROWS;
    uint g = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    if (g >= groups) {
        return;                                       // the whole workgroup: past the last row
    }
    uint row0 = g * ROWS;
    uint t0 = gl_WorkGroupID.z * TOKENS;
    for (uint i = 0u; i < ROWS * TOKENS; i++) {
        acc[i] = 0.0;
    }
    uint units = unitsPerRow();
    for (uint u = gl_LocalInvocationID.x; u < units; u += THREADS) {
        if (TYPE <= BF16) {
            floatUnit(u, row0, t0);
        } else if (TYPE == Q8_0) {
            q8Unit(u, row0, t0);
        } else if (TYPE == Q4_0) {
            q4Unit(u, row0, t0);
        } else if (TYPE == Q4_K) {
            q4kUnit(u, row0, t0);
        } else {
            q6kUnit(u, row0, t0);
        }
    }
    for (uint i = 0u; i < ROWS * TOKENS; i++) {
        float s = subgroupAdd(acc[i]);
        if (subgroupElect()) {
            red[i * SUBGROUPS + gl_SubgroupID] = s;
        }
    }
    barrier();
    for (uint i = gl_LocalInvocationID.x; i < ROWS * TOKENS; i += THREADS) {
        float s = 0.0;
        for (uint k = 0u; k < SUBGROUPS; k++) {
            s += red[i * SUBGROUPS + k];
        }
        uint row = row0 + i / TOKENS;
        uint t = t0 + i % TOKENS;
        if (row < pc.rows && t < pc.tokens) {
            act[pc.outBase + t * pc.outStride + row] = s;
        }
    }
}
