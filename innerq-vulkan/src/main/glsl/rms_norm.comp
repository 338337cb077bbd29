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

void main() {
    uint t = gl_WorkGroupID.x;
    uint lid = gl_LocalInvocationID.x;
    uint in0 = pc.inBase + t * pc.inStride;
    uint out0 = pc.outBase + t * pc.outStride;
    float ss = 0.0;
    uint y0 = pc.yBase + t * pc.inStride;
    for (uint i = lid; i < pc.dim; i += 256u) {
        float v = act[in0 + i];
        if (RESIDUAL == 1u) {
            v += act[y0 + i];
            act[in0 + i] = v;           // read again below by this thread only
        }
        ss += v * v;
    }
    ss = subgroupAdd(ss);
    if (subgroupElect()) {
        red[gl_SubgroupID] = ss;
    }
    barrier();
    float total = 0.0;
    for (uint k = 0u; k < gl_NumSubgroups; k++) {
        total += red[k];
    }
    float scale = 1.0 / sqrt(total / float(pc.dim) + pc.eps);
    for (uint i = lid; i < pc.dim; i += 256u) {
        act[out0 + i] = act[in0 + i] * scale * norms[pc.weightBase + i];
    }
}
