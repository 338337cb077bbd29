#version 450
// RMSNorm per token (workgroup x): out[i] = in[i] * (1 / sqrt(mean(in^2) + eps)) * weight[i], i < dim, with
// in = act[inBase + t*inStride ..], out = act[outBase + t*outStride ..], weight = norms[weightBase ..]. in may be out
// (each thread reads its elements before writing them, after the sum); otherwise the regions must not overlap.
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer Norms { float norms[]; };   // fp32, every norm weight vector
layout(std430, binding = 1) buffer Act { float act[]; };                // fp32 activations
layout(push_constant) uniform Push {
    uint dim; uint inBase; uint inStride; uint outBase; uint outStride; uint weightBase; float eps;
} pc;

shared float red[256];

void main() {
    uint t = gl_WorkGroupID.x;
    uint lid = gl_LocalInvocationID.x;
    uint in0 = pc.inBase + t * pc.inStride;
    uint out0 = pc.outBase + t * pc.outStride;
    float ss = 0.0;
    for (uint i = lid; i < pc.dim; i += 256u) {
        float v = act[in0 + i];
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
