#version 450
// out[i] = sum over chunks of partial[chunk * count + i]: the last step of a split-token p.V.
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer Partial { float partial[]; };
layout(std430, binding = 1) writeonly buffer Out { float outv[]; };
layout(push_constant) uniform Push { uint count; uint chunks; uint outBase; } pc;

void main() {
    uint i = gl_GlobalInvocationID.x;
    if (i >= pc.count) {
        return;
    }
    float s = 0.0;
    for (uint c = 0u; c < pc.chunks; c++) {
        s += partial[c * pc.count + i];
    }
    outv[pc.outBase + i] = s;
}
