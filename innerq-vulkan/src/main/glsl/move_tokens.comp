#version 450
// Copies the fp32 K and V of tokens [from, to) between layouts. Element (t, kvHead, c) of the source:
// sBase + t * sTokenStride + kvHead * sHeadStride + c (K; V at + sValues); of the destination: dK or dV +
// pos(t) * dTokenStride + kvHead * dHeadStride + c, pos(t) = (t - sink) % dRing (a window ring) or t (dRing 0).
layout(local_size_x = 64) in;
layout(constant_id = 0) const uint HEAD_DIM = 128;
layout(std430, binding = 0) buffer Cache { uint cache[]; };
layout(std430, binding = 1) readonly buffer Source { uint src[]; };
layout(push_constant) uniform Push {
    uint from; uint to; uint kvHeads; uint sink; uint sTokenStride; uint sHeadStride; uint sValues;
    uint dK; uint dV; uint dTokenStride; uint dHeadStride; uint dRing;
} pc;

void main() {
    uint i = gl_GlobalInvocationID.x;
    uint perToken = pc.kvHeads * HEAD_DIM;
    if (i >= (pc.to - pc.from) * perToken) {
        return;
    }
    uint t = pc.from + i / perToken;
    uint kvh = (i % perToken) / HEAD_DIM;
    uint c = i % HEAD_DIM;
    uint s = t * pc.sTokenStride + kvh * pc.sHeadStride + c;
    uint pos = pc.dRing > 0u ? (t - pc.sink) % pc.dRing : t;
    uint d = pos * pc.dTokenStride + kvh * pc.dHeadStride + c;
    cache[pc.dK + d] = src[s];
    cache[pc.dV + d] = src[pc.sValues + s];
}
