// Accuracy counts over a batch (the training loop turns them into Keras' running means).
#pragma once
#include <cstdint>

namespace fastdnn {

// Σ_i [argmax_j p_ij = t_i]             (sparse_categorical_accuracy; ties: first max)
int64_t sparse_categorical_hits(const float* p, const int32_t* labels, int64_t B, int64_t C);
// Σ_i [argmax_j p_ij = argmax_j y_ij]    (categorical_accuracy)
int64_t categorical_hits(const float* p, const float* y, int64_t B, int64_t C);
// Σ_i mean_j [(p_ij > threshold) = y_ij] (binary_accuracy; Keras' threshold is 0.5)
double binary_hits(const float* p, const float* y, int64_t B, int64_t C, float threshold);

}  // namespace fastdnn
