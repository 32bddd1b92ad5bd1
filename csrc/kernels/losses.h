// Losses over a batch of B rows and C outputs, with their gradients.
// Each returns the mean loss over the batch (Keras' "sum_over_batch_size")
// and, when the gradient pointer is not null, writes dL/d(input) of that mean.
// With per-row weights w (sample_weight; null for none) the loss is
// Σ_r w_r·L_r / B (divided by the rows, not by Σw, as Keras) and row r's
// gradient is w_r times the unweighted one.
#pragma once
#include <cstdint>

namespace fastdnn {

// Keras' backend epsilon, which clips probabilities.
constexpr float kProbabilityEpsilon = 1e-7f;

// Softmax fused with cross-entropy, from logits z (the form Keras' TF backend uses):
// L_i = logsumexp(z_i) − z_i[t_i];          dz = (softmax(z) − onehot(t))/B
double sparse_softmax_crossentropy(float* dz, const float* z, const int32_t* labels, int64_t B,
                                   int64_t C, const float* w = nullptr);
// L_i = −Σ_j y_ij·log_softmax(z_i)_j;       dz = (softmax(z)·Σ_j y_ij − y)/B
double softmax_crossentropy(float* dz, const float* z, const float* y, int64_t B, int64_t C,
                            const float* w = nullptr);

// Cross-entropy on probabilities p (a last layer that applied softmax itself), as Keras:
// p̂ = clip(p/Σp, ε, 1−ε), L_i = −Σ_j y_ij·log p̂_ij; no gradient where clipped.
double crossentropy(float* dp, const float* p, const float* y, int64_t B, int64_t C,
                    const float* w = nullptr);
double sparse_crossentropy(float* dp, const float* p, const int32_t* labels, int64_t B,
                           int64_t C, const float* w = nullptr);

// Binary cross-entropy, averaged over the C outputs of a row:
// on probabilities, p̂ = clip(p, ε, 1−ε), L = −mean_j (y log p̂ + (1−y) log(1−p̂));
double binary_crossentropy(float* dp, const float* p, const float* y, int64_t B, int64_t C,
                           const float* w = nullptr);
// from logits, L = mean_j (max(z,0) − z·y + log(1 + e^−|z|));   dz = (σ(z) − y)/(B·C)
double sigmoid_binary_crossentropy(float* dz, const float* z, const float* y, int64_t B,
                                   int64_t C, const float* w = nullptr);

// L = mean (p − y)²;   dp = 2(p − y)/(B·C)
double mean_squared_error(float* dp, const float* p, const float* y, int64_t B, int64_t C,
                          const float* w = nullptr);
// L = mean |p − y|;    dp = sign(p − y)/(B·C)
double mean_absolute_error(float* dp, const float* p, const float* y, int64_t B, int64_t C,
                           const float* w = nullptr);

}  // namespace fastdnn
