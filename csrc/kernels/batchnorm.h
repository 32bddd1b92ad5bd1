// Batch normalization over the feature axis of (B, C) buffers, as Keras 3 does it.
#pragma once
#include <cstdint>

namespace fastdnn {

// Training: μ = mean_r x, σ² = mean_r (x−μ)² (biased), x̂ = (x−μ)/√(σ²+ε), y = γ·x̂ + β.
// Saves x̂ (B,C) and 1/√(σ²+ε) (C) for the backward pass; mean and var (C) feed
// the moving statistics. gamma / beta null mean scale / center off (γ=1, β=0).
void batchnorm_forward_train(float* y, float* xhat, float* mean, float* var, float* inv_std,
                             const float* x, const float* gamma, const float* beta, int64_t B,
                             int64_t C, float epsilon);

// moving = moving·momentum + batch·(1 − momentum)      (Keras' convention)
// (1 − momentum is formed in double, then rounded, as Keras' Python does.)
void batchnorm_update_moving(float* moving_mean, float* moving_var, const float* mean,
                             const float* var, int64_t C, double momentum);

// Inference folds the statistics into y = x·scale + shift:
// scale = γ/√(σ²_moving+ε), shift = β − μ_moving·scale.
void batchnorm_inference_coefficients(float* scale, float* shift, const float* gamma,
                                      const float* beta, const float* moving_mean,
                                      const float* moving_var, int64_t C, float epsilon);
void batchnorm_forward_infer(float* y, const float* x, const float* scale, const float* shift,
                             int64_t B, int64_t C);

// dβ = Σ_r dy, dγ = Σ_r dy·x̂, dx = γ·inv_std/B · (B·dy − dβ − x̂·dγ).
// dgamma and dbeta are required (they feed dx); gamma null means γ = 1.
void batchnorm_backward(float* dx, float* dgamma, float* dbeta, const float* dy,
                        const float* xhat, const float* inv_std, const float* gamma, int64_t B,
                        int64_t C);

// Backward of the inference form (a frozen layer): dx = dy·scale.
void batchnorm_backward_infer(float* dx, const float* dy, const float* scale, int64_t B,
                              int64_t C);

}  // namespace fastdnn
