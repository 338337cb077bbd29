#version 450
// Smoke kernel: out[i] = in[i] * factor + i.
layout(local_size_x = 64) in;
layout(std430, set = 0, binding = 0) readonly buffer In { float src[]; };
layout(std430, set = 0, binding = 1) writeonly buffer Out { float dst[]; };
layout(push_constant) uniform Push { uint count; float factor; } pc;
void main() {
    uint i = gl_GlobalInvocationID.x;
    if (i < pc.count) {
        dst[i] = src[i] * pc.factor + float(i);
    }
}
