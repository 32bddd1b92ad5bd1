// Keras' other losses over a batch of B rows and C outputs, with their
// gradients: the same conventions as kernels/losses.h (the mean over the rows,
// Keras' "sum_over_batch_size", optional per-row weights w, dp of that mean
// when dp is not null). ε is kProbabilityEpsilon (Keras' backend.epsilon()).
// Where Keras' formula has a kink or a clip, the gradient is the one torch's
// autograd takes there (clip: passes on [lo, hi]; |x|: 0 at 0).
#pragma once
#include <cstdint>

namespace fastdnn {

// e = p − y; L = mean_j (|e| ≤ δ ? e²/2 : δ|e| − δ²/2);   dp = (|e| ≤ δ ? e : δ·sign e)/(B·C)
double huber(float* dp, const float* p, const float* y, int64_t B, int64_t C, double delta,
             const float* w = nullptr);
// e = p − y; L = mean_j (e + softplus(−2e) − log 2);       dp = tanh(e)/(B·C)
double log_cosh(float* dp, const float* p, const float* y, int64_t B, int64_t C,
                const float* w = nullptr);
// ŷ = clip(y, ε, 1), p̂ = clip(p, ε, 1); L = Σ_j ŷ log(ŷ/p̂);  dp = −ŷ/p̂ /B on [ε, 1], else 0
double kl_divergence(float* dp, const float* p, const float* y, int64_t B, int64_t C,
                     const float* w = nullptr);
// L = mean_j (p − y·log(p + ε));                           dp = (1 − y/(p + ε))/(B·C)
double poisson(float* dp, const float* p, const float* y, int64_t B, int64_t C,
               const float* w = nullptr);
// t = 2y − 1 when every y of the batch is 0 or 1 (Keras' conversion), else t = y;
// hinge: L = mean_j max(1 − t·p, 0);   dp = −t/(B·C) where 1 − t·p > 0, else 0
double hinge(float* dp, const float* p, const float* y, int64_t B, int64_t C,
             const float* w = nullptr);
// squared_hinge: L = mean_j max(1 − t·p, 0)²;   dp = −2t·max(1 − t·p, 0)/(B·C)
double squared_hinge(float* dp, const float* p, const float* y, int64_t B, int64_t C,
                     const float* w = nullptr);
// L = 100·mean_j |y − p| / max(|y|, ε);   dp = 100·sign(p − y)/max(|y|, ε)/(B·C)
double mean_absolute_percentage_error(float* dp, const float* p, const float* y, int64_t B,
                                      int64_t C, const float* w = nullptr);
// d = log(max(p, ε) + 1) − log(max(y, ε) + 1); L = mean_j d²;   dp = 2d/(p + 1)/(B·C) where p > ε
double mean_squared_logarithmic_error(float* dp, const float* p, const float* y, int64_t B,
                                      int64_t C, const float* w = nullptr);
// n(x) = x·min(1/‖x‖, 1/ε); L = −Σ_j n(y)_j n(p)_j;
// dp = −(n(y) − n(p)(n(p)·n(y)))/‖p‖ /B, or −n(y)/ε /B where 1/‖p‖ was clipped
double cosine_similarity(float* dp, const float* p, const float* y, int64_t B, int64_t C,
                         const float* w = nullptr);

}  // namespace fastdnn
