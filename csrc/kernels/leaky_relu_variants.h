// ReLUs whose negative slope is learned (PReLU) or random (RReLU).
#pragma once
#include <cstdint>

namespace fastdnn {

// PReLU (Keras): y = x > 0 ? x : α·x, one α per feature (alpha has `cols`
// entries), or one shared α when alpha_size == 1.
void prelu_forward(float* y, const float* x, const float* alpha, int64_t alpha_size,
                   int64_t rows, int64_t cols);
// dx = dy·(x > 0 ? 1 : α);  dα = Σ dy·min(x, 0)  (over rows, and over columns when shared)
void prelu_backward(float* dx, float* dalpha, const float* dy, const float* x,
                    const float* alpha, int64_t alpha_size, int64_t rows, int64_t cols);

// RReLU (Xu et al. 2015, as PyTorch): y = x ≥ 0 ? x : a·x. Training draws
// a ~ U[lower, upper] per element from Philox(seed, stream, offset + i); inference uses
// a = (lower + upper)/2. multiplier_i = dy/dx (backward: mask_backward).
void rrelu_forward(float* y, float* multiplier, const float* x, int64_t n, float lower,
                   float upper, bool training, uint64_t seed, uint64_t stream, uint64_t offset = 0);

}  // namespace fastdnn
