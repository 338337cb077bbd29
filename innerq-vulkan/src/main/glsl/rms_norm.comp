#version 450
// RMSNorm per token (workgroup x): out[i] = in[i] * (1 / sqrt(mean(in^2) + eps)) * weight[i], i < dim, with
// in = act[inBase + t*inStride ..], out = act[outBase + t*outStride ..], weight = norms[weightBase ..]. in may be out
// (each thread reads its elements before writing them, after the sum); otherwise the regions must not overlap.
// With RESIDUAL = 1 the residual add comes first, in place: in[i] += act[yBase + t*inStride + i] (y must not overlap
// in; out may be y, as each element of both is read and written by one thread), then the norm of the new in.
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
layout(local_size_x = 256) in;
layout(constant_id = 0) const uint RESIDUAL = 0;
layout(std430, binding = 0) readonly buffer Norms { float norms[]; };   // fp32, every norm weight vector
layout(std430, binding = 1) buffer Act { float act[]; };                // fp32 activations
layout(push_constant) uniform Push {
    uint dim; uint inBase; uint inStride; uint outBase; uint outStride; uint weightBase; float eps; uint yBase;
} pc;

shared float red[256];

// Elements a thread holds in registers: rows up to PER * 256 (4096) are read once, all loads issued before any
// store, so that a decode step's single workgroup waits for memory once, not once per element (stores into act
// would otherwise order every later load of act behind them). Longer rows take the loops of the general path.
const uint PER = 16u;

float sumOfSquares(float ss) {
    ss = subgroupAdd(ss);
    if (subgroupElect()) {
        red[gl_SubgroupID] = ss;
    }
    barrier();
    float total = 0.0;
    for (uint k = 0u; k < gl_NumSubgroups; k++) {
        total += red[k];
    }
    return total;
}

void main() {
    uint t = gl_WorkGroupID.x;
    uint lid = gl_LocalInvocationID.x;
    uint in0 = pc.inBase + t * pc.inStride;
    uint out0 = pc.outBase + t * pc.outStride;
    uint y0 = pc.yBase + t * pc.inStride;
    float ss = 0.0;
    if (pc.dim <= PER * 256u) {
        float v[PER];
        for (uint k = 0u; k < PER; k++) {
            uint i = lid + k * 256u;
            v[k] = i < pc.dim ? act[in0 + i] : 0.0;
        }
        if (RESIDUAL == 1u) {
            float y[PER];
            for (uint k = 0u; k < PER; k++) {
                uint i = lid + k * 256u;
                y[k] = i < pc.dim ? act[y0 + i] : 0.0;
            }
            for (uint k = 0u; k < PER; k++) {
                uint i = lid + k * 256u;
                v[k] += y[k];
                if (i < pc.dim) {
                    act[in0 + i] = v[k];
                }
            }
        }
        for (uint k = 0u; k < PER; k++) {
            ss += v[k] * v[k]; // the order of the general path's loop
        }
        float scale = 1.0 / sqrt(sumOfSquares(ss) / float(pc.dim) + pc.eps);
        for (uint k = 0u; k < PER; k++) {
            uint i = lid + k * 256u;
            if (i < pc.dim) {
                act[out0 + i] = v[k] * scale * norms[pc.weightBase + i];
            }
        }
        return;
    }
    for (uint i = lid; i < pc.dim; i += 256u) {
        float v = act[in0 + i];
        if (RESIDUAL == 1u) {
            v += act[y0 + i];
            act[in0 + i] = v;           // read again below by this thread only
        }
        ss += v * v;
    }
    float scale = 1.0 / sqrt(sumOfSquares(ss) / float(pc.dim) + pc.eps);
    for (uint i = lid; i < pc.dim; i += 256u) {
        act[out0 + i] = act[in0 + i] * scale * norms[pc.weightBase + i];
    }
}
