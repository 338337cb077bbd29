#version 450
// Copies fp32 tokens into KIVI's residuals: K of tokens [kFrom, to) to slot t % keySlots of ringK, V of tokens
// [vFrom, to) to slot t % valueSlots of ringV, each ring [kvHead][slot][channel]. Source element (t, kvHead, c):
// kSrc (V: vSrc) + t * srcTokenStride + kvHead * HEAD_DIM + c: the I/O buffer (stride 0, one token) or the prompt buffer.
layout(local_size_x = 64) in;
layout(constant_id = 0) const uint HEAD_DIM = 128;
layout(std430, binding = 0) buffer Cache { uint cache[]; };
layout(std430, binding = 1) readonly buffer Source { uint src[]; };
layout(push_constant) uniform Push {
    uint kFrom; uint vFrom; uint to; uint kvHeads; uint kSrc; uint vSrc; uint srcTokenStride; uint ringK; uint ringV;
    uint keySlots; uint valueSlots;
} pc;

void main() {
    uint i = gl_GlobalInvocationID.x;
    uint perToken = pc.kvHeads * HEAD_DIM;
    uint from = min(pc.kFrom, pc.vFrom);
    if (i >= (pc.to - from) * perToken) {
        return;
    }
    uint t = from + i / perToken;
    uint e = i % perToken;                            // kvHead * HEAD_DIM + c
    uint kvh = e / HEAD_DIM;
    uint c = e % HEAD_DIM;
    if (t >= pc.kFrom) {
        cache[pc.ringK + (kvh * pc.keySlots + t % pc.keySlots) * HEAD_DIM + c] = src[pc.kSrc + t * pc.srcTokenStride + e];
    }
    if (t >= pc.vFrom) {
        cache[pc.ringV + (kvh * pc.valueSlots + t % pc.valueSlots) * HEAD_DIM + c] = src[pc.vSrc + t * pc.srcTokenStride + e];
    }
}
