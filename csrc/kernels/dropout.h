// Dropout and alpha dropout, training mode (both are the identity at inference).
// Masks come from Philox keyed by (seed, stream, element), so they depend on
// neither the thread count nor the order in which elements are visited. Element i
// draws as element offset + i (a shard of a larger batch draws its part of the batch's mask).
#pragma once
#include <cstdint>

namespace fastdnn {

// keep_i = [u_i ≥ rate], u ~ U[0,1);  mask_i = keep_i/(1−rate);  y = x·mask.   0 ≤ rate < 1.
void dropout_forward(float* y, float* mask, const float* x, int64_t n, double rate, uint64_t seed,
                     uint64_t stream, uint64_t offset = 0);

// Keeps SELU's zero mean and unit variance (Klambauer et al. 2017; Keras' AlphaDropout):
// y = a·(x·keep + α′·(1−keep)) + b, α′ = −λα, a = ((1−p)(1+p·α′²))^(−1/2), b = −a·α′·p.
// mask_i = a·keep_i is dy/dx.
void alpha_dropout_forward(float* y, float* mask, const float* x, int64_t n, double rate,
                           uint64_t seed, uint64_t stream, uint64_t offset = 0);

// dx = dy·mask  (the backward of dropout, alpha dropout, the noise layers and RReLU);
// dx = dy where mask is null (the layer was inactive: inference, or rate 0)
void mask_backward(float* dx, const float* dy, const float* mask, int64_t n);

}  // namespace fastdnn
