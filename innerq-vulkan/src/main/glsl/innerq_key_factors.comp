#version 450
// Key normalization: f[kvHead][c] = sqrt(max over tokens [from, to) of |K[t][kvHead][c]|), 1 where that is 0.
// Source addressing as innerq_quantize_keys. One thread per KV head and channel.
layout(local_size_x = 64) in;
layout(constant_id = 0) const uint HEAD_DIM = 128;
layout(std430, binding = 0) buffer Cache { uint cache[]; };
layout(std430, binding = 1) readonly buffer Source { uint src[]; };
layout(push_constant) uniform Push {
    uint from; uint to; uint kvHeads; uint sink; uint factors; uint srcBase; uint srcTokenStride; uint srcHeadStride;
    uint srcRing;
} pc;

void main() {
    uint i = gl_GlobalInvocationID.x;
    if (i >= pc.kvHeads * HEAD_DIM) {
        return;
    }
    uint kvh = i / HEAD_DIM;
    uint c = i % HEAD_DIM;
    float m = 0.0;
    for (uint t = pc.from; t < pc.to; t++) {
        uint pos = pc.srcRing > 0u ? (t - pc.sink) % pc.srcRing : t;
        m = max(m, abs(uintBitsToFloat(src[pc.srcBase + pos * pc.srcTokenStride + kvh * pc.srcHeadStride + c])));
    }
    cache[pc.factors + i] = floatBitsToUint(m == 0.0 ? 1.0 : sqrt(m));
}
