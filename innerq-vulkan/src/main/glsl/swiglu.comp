#version 450
// SwiGLU in place per token (workgroup y): gate[i] = silu(gate[i]) * up[i] = gate[i] / (1 + exp(-gate[i])) * up[i],
// i < n, gate = act[gateBase + t*stride ..], up = act[upBase + t*stride ..] (fp32).
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer Act { float act[]; };                // fp32 activations
layout(push_constant) uniform Push { uint n; uint gateBase; uint upBase; uint stride; } pc;

void main() {
    uint i = gl_GlobalInvocationID.x;
    if (i >= pc.n) {
        return;
    }
    uint t = gl_WorkGroupID.y;
    uint g = pc.gateBase + t * pc.stride + i;
    float v = act[g];
    act[g] = v / (1.0 + exp(-v)) * act[pc.upBase + t * pc.stride + i];
}
