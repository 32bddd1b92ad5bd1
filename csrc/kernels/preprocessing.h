// Keras' preprocessing layers that act feature by feature on (B, C) buffers:
// Normalization and Rescaling. They have no trainable weights; their backward
// passes carry gradients to the layers before them.
#pragma once
#include <cstdint>

namespace fastdnn {

// d_c = max(√variance_c, ε): Keras' Normalization divides by this.
void normalization_denominators(float* denominator, const float* variance, int64_t C, float epsilon);

// y = (x − mean)/d;  invert: y = mean + x·d.
void normalization_forward(float* y, const float* x, const float* mean, const float* denominator,
                           int64_t B, int64_t C, bool invert);
// dx = dy/d;  invert: dx = dy·d.
void normalization_backward(float* dx, const float* dy, const float* denominator, int64_t B,
                            int64_t C, bool invert);

// y = x·scale + offset (scale, offset: one value per feature).
void rescaling_forward(float* y, const float* x, const float* scale, const float* offset, int64_t B,
                       int64_t C);
// dx = dy·scale.
void rescaling_backward(float* dx, const float* dy, const float* scale, int64_t B, int64_t C);

}  // namespace fastdnn
