#version 450
// variant: dot = INT_DOT
// out[r] = sum_c W[r][c] * x[c] for one token and a Q4_0 or Q8_0 weight matrix in DeviceMatrix's layout (TYPE: 3
// Q8_0, 4 Q4_0, the numbers of matmul.comp), with x quantized to 8 bits once per workgroup: per block of 32
// elements, d = max|x| / 127 and codes round(x / d), so that a block of W times a block of x is one integer sum of
// products, then d_w * d_x * (sum - offset * sum of x's codes) (offset 8 for Q4_0, 0 for Q8_0). The integer sums
// are exact; the result differs from the float product by at most sum_c |W[r][c]| * d_x / 2 (x's rounding).
// x[c] = act[xBase + c], out[r] = act[outBase + r]; the two must not overlap.
//
// Built twice: with INT_DOT (the "_dot" module), sums of 4 byte products are dotPacked4x8EXT
// (GL_EXT_integer_dot_product, which the device must enable); without, the same sums written out.
//
// A workgroup of THREADS threads first quantizes all of x into shared memory, then its subgroups take ROWS rows
// each, workgroups striding over the rows: lane i of a subgroup takes blocks i, i + subgroup size, ..., UNROLL
// blocks of each of its rows loaded before any is used (16-byte loads of codes, adjacent lanes on adjacent blocks);
// a row's sum is one subgroupAdd. No barrier after the first; a subgroup's first weights are loaded before it.
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#extension GL_EXT_control_flow_attributes : require
#ifdef INT_DOT
#extension GL_EXT_integer_dot_product : require
#endif
layout(local_size_x_id = 0) in;                       // THREADS
layout(constant_id = 0) const uint THREADS = 128;
layout(constant_id = 1) const uint TYPE = 4;
layout(constant_id = 2) const uint ROWS = 2;          // rows per subgroup and step
layout(constant_id = 3) const uint BLOCKS = 128;      // cols / 32: the size of x in shared memory
layout(constant_id = 4) const uint XVEC = 0;          // 1: xBase is a multiple of 4 (x read as vec4)
layout(constant_id = 5) const uint UNROLL = 2;        // blocks of each row a lane loads before it computes

// Weights: DeviceMatrix's layout; Q4_0 codes [rows][BLOCKS] as uvec4 (word k: elements 4k.. in the low nibbles,
// 16 + 4k.. in the high ones), Q8_0 codes [rows][BLOCKS] as two uvec4 (int8, element order); fp16 scales two per
// word from word scaleBase.
layout(std430, binding = 0) readonly buffer Weights { uvec4 w4[]; };
layout(std430, binding = 0) readonly buffer WeightWords { uint w1[]; };
// Activations: fp32, read as x and written as out.
layout(std430, binding = 1) buffer Act { float act[]; };
layout(std430, binding = 1) readonly buffer ActVec { vec4 act4[]; };
layout(push_constant) uniform Push {
    uint rows; uint cols; uint tokens; uint xBase; uint xStride; uint outBase; uint outStride; uint scaleBase;
} pc;

const uint Q8_0 = 3u, Q4_0 = 4u;

// x quantized: codes int8 [word k][block b] (4 codes per word, element 4k + j of block b in byte j: transposed so
// that adjacent lanes read adjacent words), its scale d [b] and the sum of its codes [b].
shared uint xq[8 * BLOCKS];
shared float xd[BLOCKS];
shared int xs[BLOCKS];

vec4 x4(uint at) {                                    // x[at .. at + 4), at a multiple of 4 when XVEC
    return XVEC == 1u ? act4[at >> 2] : vec4(act[at], act[at + 1u], act[at + 2u], act[at + 3u]);
}

float half16(uint i) {                                // fp16 scale i of the scale region
    return unpackHalf2x16(w1[pc.scaleBase + (i >> 1)] >> ((i & 1u) << 4)).x;
}

// The sum of the products of the four signed bytes of a and of b.
int dot4(uint a, uint b) {
#ifdef INT_DOT
    return dotPacked4x8EXT(int(a), int(b));
#else
    ivec4 va = ivec4(uvec4(a) << uvec4(24u, 16u, 8u, 0u)) >> 24;
    ivec4 vb = ivec4(uvec4(b) << uvec4(24u, 16u, 8u, 0u)) >> 24;
    return va.x * vb.x + va.y * vb.y + va.z * vb.z + va.w * vb.w;
#endif
}

void quantizeX() {
    for (uint b = gl_LocalInvocationID.x; b < BLOCKS; b += THREADS) {
        vec4 v[8];
        float amax = 0.0;
        [[unroll]] for (uint k = 0u; k < 8u; k++) {
            v[k] = x4(pc.xBase + 32u * b + 4u * k);
            vec4 a = abs(v[k]);
            amax = max(amax, max(max(a.x, a.y), max(a.z, a.w)));
        }
        float inv = amax > 0.0 ? 127.0 / amax : 0.0;
        int sum = 0;
        [[unroll]] for (uint k = 0u; k < 8u; k++) {
            ivec4 q = clamp(ivec4(roundEven(v[k] * inv)), ivec4(-127), ivec4(127));
            sum += q.x + q.y + q.z + q.w;
            uvec4 u = uvec4(q) & 0xFFu;
            xq[k * BLOCKS + b] = u.x | (u.y << 8) | (u.z << 16) | (u.w << 24);
        }
        xd[b] = amax / 127.0;
        xs[b] = sum;
    }
}

// Codes and weight scales of UNROLL blocks of each of a subgroup's ROWS rows, from block first on (clamped to the
// matrix: lanes past a row's last block or rows past the last load a valid block and do not use it).
uvec4 lo[UNROLL * ROWS];                              // Q4_0: the block's codes; Q8_0: its first 16 codes
uvec4 hi[UNROLL * ROWS];                              // Q8_0: its last 16 codes
float dw[UNROLL * ROWS];

void load(uint row0, uint first, uint width) {
    [[unroll]] for (uint j = 0u; j < UNROLL; j++) {
        uint b = min(first + j * width, BLOCKS - 1u);
        [[unroll]] for (uint r = 0u; r < ROWS; r++) {
            uint i = min(row0 + r, pc.rows - 1u) * BLOCKS + b;
            uint k = j * ROWS + r;
            if (TYPE == Q4_0) {
                lo[k] = w4[i];
                hi[k] = uvec4(0u);
            } else {
                lo[k] = w4[2u * i];
                hi[k] = w4[2u * i + 1u];
            }
            dw[k] = half16(i);
        }
    }
}

void main() {
    uint lane = gl_SubgroupInvocationID;
    uint width = gl_SubgroupSize;
    uint rowsPerGroup = gl_NumSubgroups * ROWS;
    uint group = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    uint stride = gl_NumWorkGroups.x * gl_NumWorkGroups.y * rowsPerGroup;
    uint steps = (BLOCKS + width * UNROLL - 1u) / (width * UNROLL); // per row, the same for every lane
    uint row0 = group * rowsPerGroup + gl_SubgroupID * ROWS;
    if (row0 < pc.rows) {
        load(row0, lane, width);                      // the first weights in flight while x is quantized
    }
    quantizeX();
    barrier();
    for (; row0 < pc.rows; row0 += stride) {
        float acc[ROWS];
        [[unroll]] for (uint r = 0u; r < ROWS; r++) {
            acc[r] = 0.0;
        }
        for (uint step = 0u; step < steps; step++) {
            uint first = lane + step * width * UNROLL;
            if (step > 0u) {
                load(row0, first, width);
            }
            [[unroll]] for (uint j = 0u; j < UNROLL; j++) {
                uint b = first + j * width;
                if (b < BLOCKS) {
                    uvec4 xa = uvec4(xq[b], xq[BLOCKS + b], xq[2u * BLOCKS + b], xq[3u * BLOCKS + b]);
                    uvec4 xb = uvec4(xq[4u * BLOCKS + b], xq[5u * BLOCKS + b], xq[6u * BLOCKS + b], xq[7u * BLOCKS + b]);
                    float d = xd[b];
                    int offset = TYPE == Q4_0 ? 8 * xs[b] : 0;
                    [[unroll]] for (uint r = 0u; r < ROWS; r++) {
                        uint k = j * ROWS + r;
                        uvec4 p = TYPE == Q4_0 ? lo[k] & 0x0F0F0F0Fu : lo[k];
                        uvec4 q = TYPE == Q4_0 ? (lo[k] >> 4) & 0x0F0F0F0Fu : hi[k];
                        int s = dot4(p.x, xa.x) + dot4(p.y, xa.y) + dot4(p.z, xa.z) + dot4(p.w, xa.w)
                                + dot4(q.x, xb.x) + dot4(q.y, xb.y) + dot4(q.z, xb.z) + dot4(q.w, xb.w);
                        acc[r] += dw[k] * d * float(s - offset);
                    }
                }
            }
        }
        [[unroll]] for (uint r = 0u; r < ROWS; r++) {
            float s = subgroupAdd(acc[r]);
            if (subgroupElect() && row0 + r < pc.rows) {
                act[pc.outBase + row0 + r] = s;
            }
        }
        if (row0 + stride < pc.rows) {
            load(row0 + stride, lane, width);         // the next rows' first weights
        }
    }
}
