#version 450
// Residual add per token (workgroup y): acc[i] += y[i], i < n, acc = act[accBase + t*stride ..],
// y = act[yBase + t*stride ..] (fp32).
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer Act { float act[]; };                // fp32 activations
layout(push_constant) uniform Push { uint n; uint accBase; uint yBase; uint stride; } pc;

void main() {
    uint i = gl_GlobalInvocationID.x;
    if (i >= pc.n) {
        return;
    }
    uint t = gl_WorkGroupID.y;
    uint a = pc.accBase + t * pc.stride + i;
    act[a] += act[pc.yBase + t * pc.stride + i];
}
