#version 450
// GGML "normal" RoPE in place: for token t (workgroup y), head h and pair i < pairs (= ropeDims / 2), the pair
// (x0, x1) = act[base + t*stride + h*headDim + 2i ..+2] becomes (x0 cos - x1 sin, x0 sin + x1 cos), with
// cos = act[tableBase + t*tableStride + i] and sin = act[tableBase + t*tableStride + pairs + i] (fp32, written by the
// host). Products and sums are rounded one by one (precise), as in Java.
layout(local_size_x = 64) in;
layout(std430, binding = 0) buffer Act { float act[]; };                // fp32 activations
layout(push_constant) uniform Push {
    uint heads; uint headDim; uint pairs; uint base; uint stride; uint tableBase; uint tableStride;
} pc;

void main() {
    uint j = gl_GlobalInvocationID.x;
    if (j >= pc.heads * pc.pairs) {
        return;
    }
    uint t = gl_WorkGroupID.y;
    uint h = j / pc.pairs;
    uint i = j % pc.pairs;
    uint table = pc.tableBase + t * pc.tableStride;
    float c = act[table + i];
    float s = act[table + pc.pairs + i];
    uint at = pc.base + t * pc.stride + h * pc.headDim + 2u * i;
    float x0 = act[at];
    float x1 = act[at + 1u];
    precise float y0 = x0 * c - x1 * s;
    precise float y1 = x0 * s + x1 * c;
    act[at] = y0;
    act[at + 1u] = y1;
}
