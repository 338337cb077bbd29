#version 450
// out[outBase + i] = sum over chunks of partial[chunk * count + i]: the last step of a split-token p.V. A workgroup
// takes 64 outputs; four threads per output sum interleaved chunks (two loads in flight each), then meet in shared
// memory.
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer Partial { float partial[]; };
layout(std430, binding = 1) writeonly buffer Out { float outv[]; };
layout(push_constant) uniform Push { uint count; uint chunks; uint outBase; } pc;

shared float part[256];

void main() {
    uint lid = gl_LocalInvocationID.x;
    uint o = lid % 64u;
    uint stripe = lid / 64u;
    uint i = gl_WorkGroupID.x * 64u + o;
    float a = 0.0;
    float b = 0.0;
    if (i < pc.count) {
        uint c = stripe;
        for (; c + 4u < pc.chunks; c += 8u) {
            a += partial[c * pc.count + i];
            b += partial[(c + 4u) * pc.count + i];
        }
        if (c < pc.chunks) {
            a += partial[c * pc.count + i];
        }
    }
    part[lid] = a + b;
    barrier();
    if (stripe == 0u && i < pc.count) {
        outv[pc.outBase + i] = (part[o] + part[64u + o]) + (part[128u + o] + part[192u + o]);
    }
}
