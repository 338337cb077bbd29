#version 450
// Writes one token's K and V (fp32, head-major [kvHead][channel]) into a dense cache layer as fp32 or fp16:
// element (t, kvHead, c) of K at kBase + kvHead * headStride + t * tokenStride + c (in elements), V likewise at vBase.
layout(local_size_x = 64) in;
layout(constant_id = 0) const uint HEAD_DIM = 128;
layout(constant_id = 1) const uint HALF = 0;          // 1: store fp16 (two per word)
layout(std430, binding = 0) buffer Cache { uint cache[]; };
layout(std430, binding = 1) readonly buffer Io { float io[]; };
layout(push_constant) uniform Push {
    uint t; uint kvHeads; uint kBase; uint vBase; uint headStride; uint tokenStride; uint kIo; uint vIo;
} pc;

void main() {
    uint per = HALF == 1u ? HEAD_DIM / 2u : HEAD_DIM;   // words per head
    uint i = gl_GlobalInvocationID.x;
    if (i >= pc.kvHeads * per) {
        return;
    }
    uint kvh = i / per;
    uint w = i % per;
    uint at = kvh * pc.headStride + pc.t * pc.tokenStride + w;
    if (HALF == 1u) {
        uint c = kvh * HEAD_DIM + 2u * w;
        cache[pc.kBase + at] = packHalf2x16(vec2(io[pc.kIo + c], io[pc.kIo + c + 1u]));
        cache[pc.vBase + at] = packHalf2x16(vec2(io[pc.vIo + c], io[pc.vIo + c + 1u]));
    } else {
        uint c = kvh * HEAD_DIM + w;
        cache[pc.kBase + at] = floatBitsToUint(io[pc.kIo + c]);
        cache[pc.vBase + at] = floatBitsToUint(io[pc.vIo + c]);
    }
}
