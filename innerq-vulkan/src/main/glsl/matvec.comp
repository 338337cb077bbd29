#version 450
// out[r] = sum_c W[r][c] * x[c] over a weight matrix in its stored GGML type (TYPE: 0 F32, 1 F16, 2 BF16, 3 Q8_0,
// 4 Q4_0), rows of rowBytes bytes from byte 0 of the weight buffer. A workgroup takes one row: its threads take
// blocks of 32 elements in turn (a Q8_0/Q4_0 block: an fp16 scale d, then 32 codes; value = d * q, Q4_0's q being
// nibble - 8, the low nibbles holding elements 0..15 and the high ones 16..31), and meet in shared memory.
#include "common.glsl"
layout(local_size_x = 64) in;
layout(constant_id = 0) const uint TYPE = 0;
layout(std430, binding = 0) readonly buffer Weights { uint w[]; };
layout(std430, binding = 1) readonly buffer Input { float x[]; };
layout(std430, binding = 2) writeonly buffer Output { float outv[]; };
layout(push_constant) uniform Push { uint rows; uint cols; uint rowBytes; uint xBase; uint outBase; } pc;

shared float red[64];

uint byteAt(uint b) {
    return (w[b >> 2] >> ((b & 3u) << 3)) & 0xFFu;
}

uint u16At(uint b) {                                   // little-endian, any alignment
    return byteAt(b) | (byteAt(b + 1u) << 8);
}

float blockDot(uint row, uint blk) {
    uint c0 = blk * 32u;
    float s = 0.0;
    uint n = min(32u, pc.cols - c0);                   // F32, F16 and BF16 rows need not fill the last block
    if (TYPE == 0u) {
        uint at = (row + c0 * 4u) >> 2;
        for (uint i = 0u; i < n; i++) {
            s += uintBitsToFloat(w[at + i]) * x[pc.xBase + c0 + i];
        }
    } else if (TYPE == 1u || TYPE == 2u) {
        uint at = row + c0 * 2u;
        for (uint i = 0u; i < n; i++) {
            uint h = u16At(at + 2u * i);
            float v = TYPE == 1u ? f16(h) : uintBitsToFloat(h << 16);
            s += v * x[pc.xBase + c0 + i];
        }
    } else if (TYPE == 3u) {
        uint at = row + blk * 34u;
        float d = f16(u16At(at));
        for (uint i = 0u; i < 32u; i++) {
            s += float(int(byteAt(at + 2u + i) << 24) >> 24) * x[pc.xBase + c0 + i];
        }
        s *= d;
    } else {
        uint at = row + blk * 18u;
        float d = f16(u16At(at));
        for (uint i = 0u; i < 16u; i++) {
            uint q = byteAt(at + 2u + i);
            s += (float(q & 15u) - 8.0) * x[pc.xBase + c0 + i] + (float(q >> 4) - 8.0) * x[pc.xBase + c0 + 16u + i];
        }
        s *= d;
    }
    return s;
}

void main() {
    uint r = gl_WorkGroupID.x;
    uint lid = gl_LocalInvocationID.x;
    if (r >= pc.rows) {
        return;
    }
    uint row = r * pc.rowBytes;
    float s = 0.0;
    for (uint blk = lid; blk < (pc.cols + 31u) / 32u; blk += 64u) {
        s += blockDot(row, blk);
    }
    red[lid] = s;
    barrier();
    for (uint k = 32u; k > 0u; k >>= 1) {
        if (lid < k) {
            red[lid] += red[lid + k];
        }
        barrier();
    }
    if (lid == 0u) {
        outv[pc.outBase + r] = red[0];
    }
}
