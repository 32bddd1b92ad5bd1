// Layer normalization over the feature axis of (B, C) buffers (Keras' LayerNormalization,
// llm.c's layernorm_forward/backward): each row is normalized by its own statistics.
#pragma once
#include <cstdint>

namespace fastdnn {

// Per row: μ = mean_c x, σ² = mean_c (x−μ)² (biased), s = 1/√(σ²+ε), x̂ = (x−μ)·s, y = γ·x̂ + β.
// rms_scaling (Keras' deprecated mode, which scales by the variance, not the root mean
// square): x̂ = x·s, y = γ·x̂. gamma / beta null mean scale / center off (γ=1, β=0).
// x̂ (B,C), μ (B) and s (B) are saved for the backward pass; null skips saving (inference).
void layernorm_forward(float* y, float* xhat, float* mean, float* inv_std, const float* x,
                       const float* gamma, const float* beta, int64_t B, int64_t C, float epsilon,
                       bool rms_scaling);

// g = γ·dy, c = (x−μ)·s:  dx = s·(g − mean_c g − c·mean_c(g·c));
// rms_scaling: dx = s·(g − c·mean_c(g·x̂)).  dγ = Σ_r dy·x̂, dβ = Σ_r dy (written, not
// accumulated; null to skip). gamma null means γ = 1; dx null skips it.
void layernorm_backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* xhat,
                        const float* mean, const float* inv_std, const float* gamma, int64_t B,
                        int64_t C, bool rms_scaling);

}  // namespace fastdnn
