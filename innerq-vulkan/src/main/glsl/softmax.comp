#version 450
// In-place softmax of each head's scores over tokens [0, n): one workgroup per query head.
#include "common.glsl"
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer Scores { float p[]; };
layout(push_constant) uniform Push { uint n; uint rowStride; } pc;

shared float partial[256];

const uint PER = 8u;

void main() {
    uint row = gl_WorkGroupID.x * pc.rowStride;
    uint lid = gl_LocalInvocationID.x;
    float m = -3.4e38;
    for (uint t = lid; t < pc.n; t += 256u) {
        m = max(m, p[row + t]);
    }
    partial[lid] = m;
    barrier();
    for (uint s = 128u; s > 0u; s >>= 1) {
        if (lid < s) {
            partial[lid] = max(partial[lid], partial[lid + s]);
        }
        barrier();
    }
    m = partial[0];
    barrier();
    float sum = 0.0;
    for (uint t = lid; t < pc.n; t += 256u) {
        sum += exp(p[row + t] - m);
    }
    partial[lid] = sum;
    barrier();
    for (uint s = 128u; s > 0u; s >>= 1) {
        if (lid < s) {
            partial[lid] += partial[lid + s];
        }
        barrier();
    }
    float inv = 1.0 / partial[0];
    // PER scores per thread loaded before any is stored: a store into p orders every later load of p after it, so
    // one load and store at a time would wait for memory once per score.
    for (uint t0 = lid; t0 < pc.n; t0 += 256u * PER) {
        float e[PER];
        for (uint k = 0u; k < PER; k++) {
            uint t = t0 + k * 256u;
            e[k] = t < pc.n ? p[row + t] : 0.0;
        }
        for (uint k = 0u; k < PER; k++) {
            uint t = t0 + k * 256u;
            if (t < pc.n) {
                p[row + t] = exp(e[k] - m) * inv;
            }
        }
    }
}
