#version 450
// out[t][r] = sum_c W[r][c] * x[t][c] for a weight matrix in its stored GGML type, in the device layout of
// DeviceMatrix (TYPE: 0 F32, 1 F16, 2 BF16, 3 Q8_0, 4 Q4_0, 5 Q4_K, 6 Q6_K). x[t][c] = act[xBase + t*xStride + c],
// out[t][r] = act[outBase + t*outStride + r]; the two regions must not overlap.
//
// A workgroup takes ROWS consecutive rows and TOKENS consecutive tokens (workgroup z). Its THREADS threads share
// the columns: a thread takes "units" u, u + THREADS, ..., UNROLL of them per step with all their loads issued
// first. A unit is 16 bytes of F32, F16 or BF16 (4 or 8 values), one 32-bit word of Q8_0 (4 codes) or Q4_0 codes (8),
// two words of Q4_K codes (16) or one word each of Q6_K's ql, ql + 32 and qh (16): adjacent threads read adjacent
// weights and adjacent 16-byte pieces of x. Per unit and token, x is loaded once and used for all ROWS rows, whose
// weights stay in registers; sums are fp32, per row and token, added by subgroupAdd and then in shared memory.
// Codes become floats without conversion instructions: a field of at most 23 bits or'ed into the mantissa of 2^23
// gives 2^23 + field exactly, and one fma (times 2^-shift, minus 2^(23-shift) and the code's offset) gives the code
// exactly.
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#extension GL_EXT_control_flow_attributes : require
layout(local_size_x_id = 0) in;                       // THREADS
layout(constant_id = 0) const uint THREADS = 128;
layout(constant_id = 1) const uint TYPE = 0;
layout(constant_id = 2) const uint ROWS = 2;          // rows per workgroup
layout(constant_id = 3) const uint TOKENS = 1;        // tokens per workgroup (one pass over the weights)
layout(constant_id = 4) const uint SUBGROUPS = 4;     // THREADS / subgroup size
layout(constant_id = 5) const uint XVEC = 0;          // 1: xBase and xStride are multiples of 4 (x read as vec4)
layout(constant_id = 6) const uint UNROLL = 1;        // units a thread loads before it computes

// Weights: DeviceMatrix's layout (16-byte aligned regions); fp16 scales two per word from word scaleBase.
layout(std430, binding = 0) readonly buffer Weights { uvec4 w4[]; };
layout(std430, binding = 0) readonly buffer WeightPairs { uvec2 w2[]; };
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
const uint LOADS = UNROLL * ROWS;

shared float red[ROWS * TOKENS * SUBGROUPS];

vec4 x4(uint at) {                                    // x[at .. at + 4), at a multiple of 4 when XVEC
    return XVEC == 1u ? act4[at >> 2] : vec4(act[at], act[at + 1u], act[at + 2u], act[at + 3u]);
}

vec4 x4Tail(uint at, uint c) {                        // the same, 0 at and past column cols (a ragged float row)
    return vec4(c < pc.cols ? act[at] : 0.0, c + 1u < pc.cols ? act[at + 1u] : 0.0,
                c + 2u < pc.cols ? act[at + 2u] : 0.0, c + 3u < pc.cols ? act[at + 3u] : 0.0);
}

float half16(uint i) {                                // fp16 scale i of the scale region
    return unpackHalf2x16(w1[pc.scaleBase + (i >> 1)] >> ((i & 1u) << 4)).x;
}

float mag(uint field) {                               // 2^23 + field, exactly
    return uintBitsToFloat(field | MAGIC);
}

float u2f(uint v) {                                   // float(v) for v < 2^23, on the FMA pipe
    return mag(v) - M;
}

// Bytes 0..3 of w as codes u - o (u unsigned).
vec4 bytes(uint w, float o) {
    uint h = w >> 16;
    return fma(vec4(mag(w & 0xFFu), mag(w & 0xFF00u), mag(h & 0xFFu), mag(h & 0xFF00u)),
               vec4(1.0, 1.0 / 256.0, 1.0, 1.0 / 256.0), -vec4(M + o, M / 256.0 + o, M + o, M / 256.0 + o));
}

// Low nibbles of bytes 0..3 of w as codes q - o.
vec4 lowNibbles(uint w, float o) {
    uint h = w >> 16;
    return fma(vec4(mag(w & 0xFu), mag(w & 0xF00u), mag(h & 0xFu), mag(h & 0xF00u)),
               vec4(1.0, 1.0 / 256.0, 1.0, 1.0 / 256.0), -vec4(M + o, M / 256.0 + o, M + o, M / 256.0 + o));
}

// High nibbles of bytes 0..3 of w as codes q - o.
vec4 highNibbles(uint w, float o) {
    uint h = w >> 16;
    return fma(vec4(mag(w & 0xF0u), mag(w & 0xF000u), mag(h & 0xF0u), mag(h & 0xF000u)),
               vec4(1.0 / 16.0, 1.0 / 4096.0, 1.0 / 16.0, 1.0 / 4096.0),
               -vec4(M / 16.0 + o, M / 4096.0 + o, M / 16.0 + o, M / 4096.0 + o));
}

float signedByte(uint w, uint shift) {                // int8 at bit shift of w
    return mag(((w >> shift) & 0xFFu) ^ 0x80u) - (M + 128.0);
}

uint unitsPerRow() {
    switch (TYPE) {
        case F32: return (pc.cols + 3u) / 4u;
        case F16: case BF16: return (pc.cols + 7u) / 8u;
        case Q8_0: return pc.cols / 4u;
        case Q4_0: return pc.cols / 8u;
        default: return pc.cols / 16u;                // Q4_K, Q6_K
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
    uint xr[TOKENS];                                  // first x element of each token (the last token past the end)
    [[unroll]] for (uint t = 0u; t < TOKENS; t++) {
        xr[t] = pc.xBase + min(t0 + t, pc.tokens - 1u) * pc.xStride;
    }
    float acc[ROWS * TOKENS];
    [[unroll]] for (uint i = 0u; i < ROWS * TOKENS; i++) {
        acc[i] = 0.0;
    }
    uint units = unitsPerRow();
    uint blocks = pc.cols / 256u;                     // Q4_K, Q6_K
    for (uint first = gl_LocalInvocationID.x; first < units; first += THREADS * UNROLL) {
        // Loads of UNROLL units of every row: raw codes, and a scale (d) or a block header (aux).
        uvec4 raw[LOADS];
        uvec4 aux[LOADS];
        float d[LOADS];
        [[unroll]] for (uint j = 0u; j < UNROLL; j++) {
            uint u = min(first + j * THREADS, units - 1u);
            [[unroll]] for (uint r = 0u; r < ROWS; r++) {
                uint row = min(row0 + r, pc.rows - 1u);
                uint k = j * ROWS + r;
                aux[k] = uvec4(0u);
                d[k] = 1.0;
                if (TYPE <= BF16) {
                    raw[k] = w4[row * units + u];     // rows zero-padded to whole units
                } else if (TYPE == Q8_0) {
                    raw[k].x = w1[row * units + u];
                    d[k] = half16((row * units + u) >> 3);
                } else if (TYPE == Q4_0) {
                    raw[k].x = w1[row * units + u];
                    d[k] = half16((row * units + u) >> 2);
                } else if (TYPE == Q4_K) {            // block: 9 uvec4 = 18 uvec2; unit (c, jj): codes 8c + 2jj
                    uint b = row * blocks + (u >> 4);
                    raw[k].xy = w2[b * 18u + 2u + (u & 15u)];
                    aux[k] = w4[b * 9u];
                } else {                              // Q6_K block: 52 words; unit (h, g)
                    uint b = row * blocks + (u >> 4);
                    uint h = (u >> 3) & 1u;
                    uint at = b * 52u + 16u * h + (u & 7u);
                    raw[k].xyz = uvec3(w1[at], w1[at + 8u], w1[b * 52u + 32u + 8u * h + (u & 7u)]);
                    aux[k].xy = w2[b * 26u + 24u + h];
                    d[k] = half16(b);
                }
            }
        }
        [[unroll]] for (uint j = 0u; j < UNROLL; j++) {
            uint u = first + j * THREADS;
            if (u >= units) {
                // past the row's last unit (the last step only)
            } else if (TYPE <= BF16) {
                uint c = u * (TYPE == F32 ? 4u : 8u);
                bool tail = c + (TYPE == F32 ? 4u : 8u) > pc.cols;
                vec4 wa[ROWS], wb[ROWS];
                [[unroll]] for (uint r = 0u; r < ROWS; r++) {
                    uvec4 q = raw[j * ROWS + r];
                    if (TYPE == F32) {
                        wa[r] = uintBitsToFloat(q);
                        wb[r] = vec4(0.0);
                    } else if (TYPE == F16) {
                        wa[r] = vec4(unpackHalf2x16(q.x), unpackHalf2x16(q.y));
                        wb[r] = vec4(unpackHalf2x16(q.z), unpackHalf2x16(q.w));
                    } else {
                        uvec4 lo = q << 16;
                        uvec4 hi = q & 0xFFFF0000u;
                        wa[r] = uintBitsToFloat(uvec4(lo.x, hi.x, lo.y, hi.y));
                        wb[r] = uintBitsToFloat(uvec4(lo.z, hi.z, lo.w, hi.w));
                    }
                }
                [[unroll]] for (uint t = 0u; t < TOKENS; t++) {
                    uint at = xr[t] + c;
                    vec4 xa, xb = vec4(0.0);
                    if (tail) {
                        xa = x4Tail(at, c);
                        if (TYPE != F32) {
                            xb = x4Tail(at + 4u, c + 4u);
                        }
                    } else {
                        xa = x4(at);
                        if (TYPE != F32) {
                            xb = x4(at + 4u);
                        }
                    }
                    [[unroll]] for (uint r = 0u; r < ROWS; r++) {
                        acc[r * TOKENS + t] += TYPE == F32 ? dot(wa[r], xa) : dot(wa[r], xa) + dot(wb[r], xb);
                    }
                }
            } else if (TYPE == Q8_0) {                // elements 4u .. 4u + 3
                vec4 w[ROWS];
                [[unroll]] for (uint r = 0u; r < ROWS; r++) {
                    w[r] = bytes(raw[j * ROWS + r].x ^ 0x80808080u, 128.0);
                }
                [[unroll]] for (uint t = 0u; t < TOKENS; t++) {
                    vec4 x = x4(xr[t] + 4u * u);
                    [[unroll]] for (uint r = 0u; r < ROWS; r++) {
                        acc[r * TOKENS + t] += d[j * ROWS + r] * dot(w[r], x);
                    }
                }
            } else if (TYPE == Q4_0) {                // word i of block b: elements 4i .. (low), 16 + 4i .. (high)
                uint c = (u >> 2) * 32u + 4u * (u & 3u);
                vec4 wa[ROWS], wb[ROWS];
                [[unroll]] for (uint r = 0u; r < ROWS; r++) {
                    wa[r] = lowNibbles(raw[j * ROWS + r].x, 8.0);
                    wb[r] = highNibbles(raw[j * ROWS + r].x, 8.0);
                }
                [[unroll]] for (uint t = 0u; t < TOKENS; t++) {
                    vec4 xa = x4(xr[t] + c);
                    vec4 xb = x4(xr[t] + c + 16u);
                    [[unroll]] for (uint r = 0u; r < ROWS; r++) {
                        acc[r * TOKENS + t] += d[j * ROWS + r] * (dot(wa[r], xa) + dot(wb[r], xb));
                    }
                }
            } else if (TYPE == Q4_K) {
                // Unit (c, jj) of a block: code bytes 32c + 8jj .. +8; low nibbles are elements 64c + 8jj .. of
                // sub-block 2c, high nibbles 64c + 32 + 8jj .. of sub-block 2c + 1. Each sub-block: d * scale * q -
                // dmin * min; the header holds fp16 d and dmin, then 6-bit scales and mins (GGML's
                // get_scale_min_k4): bytes j < 4 of words 1 and 2 for sub-blocks j < 4, else nibbles of word 3
                // with the top 2 bits of bytes j - 4 of words 1 and 2.
                uint c = (u >> 2) & 3u;
                uint at = (u >> 4) * 256u + 64u * c + 8u * (u & 3u);
                uint sh = (c & 1u) * 16u;
                vec4 wa0[ROWS], wa1[ROWS], wb0[ROWS], wb1[ROWS];
                vec4 scale[ROWS];                     // d * scale and dmin * min of sub-blocks 2c, 2c + 1
                [[unroll]] for (uint r = 0u; r < ROWS; r++) {
                    uvec4 hd = aux[j * ROWS + r];
                    vec2 dm = unpackHalf2x16(hd.x);
                    uint a0 = hd.y >> sh, a1 = hd.z >> sh, a2 = hd.w >> sh;
                    uvec4 sm = c < 2u
                            ? uvec4(a0 & 63u, a1 & 63u, (a0 >> 8) & 63u, (a1 >> 8) & 63u)
                            : uvec4((a2 & 0xFu) | ((a0 >> 2) & 0x30u), ((a2 >> 4) & 0xFu) | ((a1 >> 2) & 0x30u),
                                    ((a2 >> 8) & 0xFu) | ((a0 >> 10) & 0x30u), ((a2 >> 12) & 0xFu) | ((a1 >> 10) & 0x30u));
                    scale[r] = vec4(u2f(sm.x), u2f(sm.y), u2f(sm.z), u2f(sm.w)) * dm.xyxy;
                    uvec2 q = raw[j * ROWS + r].xy;
                    wa0[r] = lowNibbles(q.x, 0.0);
                    wa1[r] = lowNibbles(q.y, 0.0);
                    wb0[r] = highNibbles(q.x, 0.0);
                    wb1[r] = highNibbles(q.y, 0.0);
                }
                [[unroll]] for (uint t = 0u; t < TOKENS; t++) {
                    uint x0 = xr[t] + at;
                    vec4 xa0 = x4(x0), xa1 = x4(x0 + 4u), xb0 = x4(x0 + 32u), xb1 = x4(x0 + 36u);
                    float sumA = dot(xa0 + xa1, vec4(1.0));
                    float sumB = dot(xb0 + xb1, vec4(1.0));
                    [[unroll]] for (uint r = 0u; r < ROWS; r++) {
                        vec4 s = scale[r];
                        acc[r * TOKENS + t] += s.x * (dot(wa0[r], xa0) + dot(wa1[r], xa1)) - s.y * sumA
                                + s.z * (dot(wb0[r], xb0) + dot(wb1[r], xb1)) - s.w * sumB;
                    }
                }
            } else {
                // Q6_K unit (h, g) of a block: for l = 4g .. 4g + 3 of half h, elements 128h + 32k + l, k < 4, from
                // the low (k = 0, 1) or high (k = 2, 3) nibbles of ql[64h + l] (k even) or ql[64h + 32 + l] (k odd)
                // and bit pair k of qh[32h + l]; codes are 6-bit minus 32, times the int8 scale
                // scales[8h + l / 16 + 2k] (exact: at most 4096 in magnitude) and then d.
                uint h = (u >> 3) & 1u;
                uint g = u & 7u;
                uint at = (u >> 4) * 256u + 128u * h + 4u * g;
                vec4 w0[ROWS], w1v[ROWS], w2v[ROWS], w3[ROWS];
                [[unroll]] for (uint r = 0u; r < ROWS; r++) {
                    uvec4 q = raw[j * ROWS + r];
                    uvec2 sc = aux[j * ROWS + r].xy;
                    uint s0 = 8u * (g >> 2);          // byte g / 4 + 2k of sc: word k / 2, bit s0 + 16 (k & 1)
                    w0[r] = bytes((q.x & 0x0F0F0F0Fu) | ((q.z << 4) & 0x30303030u), 32.0) * signedByte(sc.x, s0);
                    w1v[r] = bytes((q.y & 0x0F0F0F0Fu) | ((q.z << 2) & 0x30303030u), 32.0) * signedByte(sc.x, s0 + 16u);
                    w2v[r] = bytes(((q.x >> 4) & 0x0F0F0F0Fu) | (q.z & 0x30303030u), 32.0) * signedByte(sc.y, s0);
                    w3[r] = bytes(((q.y >> 4) & 0x0F0F0F0Fu) | ((q.z >> 2) & 0x30303030u), 32.0) * signedByte(sc.y, s0 + 16u);
                }
                [[unroll]] for (uint t = 0u; t < TOKENS; t++) {
                    uint x0 = xr[t] + at;
                    vec4 xa = x4(x0), xb = x4(x0 + 32u), xc = x4(x0 + 64u), xd = x4(x0 + 96u);
                    [[unroll]] for (uint r = 0u; r < ROWS; r++) {
                        acc[r * TOKENS + t] += d[j * ROWS + r]
                                * (dot(w0[r], xa) + dot(w1v[r], xb) + dot(w2v[r], xc) + dot(w3[r], xd));
                    }
                }
            }
        }
    }
    [[unroll]] for (uint i = 0u; i < ROWS * TOKENS; i++) {
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
