// GaussianNoise and GaussianDropout, training mode (both are the identity at inference).
// The normal draws come from Philox keyed by (seed, stream, element), as dropout's masks
// do, so they depend on neither the thread count nor the order of the work. Element i
// draws as element offset + i (a shard of a larger batch draws its part of the batch's noise).
#pragma once
#include <cstdint>

namespace fastdnn {

// z_i ~ N(0, 1): Box–Muller on two 32-bit Philox words per pair of elements.
void standard_normal(float* z, int64_t n, uint64_t seed, uint64_t stream);

// y = x + σ·z.  (Its backward is dx = dy.)
void gaussian_noise_forward(float* y, const float* x, int64_t n, double stddev, uint64_t seed,
                            uint64_t stream, uint64_t offset = 0);

// mask_i = 1 + σ·z_i with σ = √(rate/(1−rate));  y = x·mask.  0 ≤ rate < 1.
// mask is dy/dx: the backward is mask_backward (kernels/dropout.h).
void gaussian_dropout_forward(float* y, float* mask, const float* x, int64_t n, double rate,
                              uint64_t seed, uint64_t stream, uint64_t offset = 0);

}  // namespace fastdnn
