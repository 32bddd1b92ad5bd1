// What happens to gradients between the backward pass and the optimizer, in
// Keras' order: regularization (part of the loss), clipping, weight decay.
#pragma once
#include <cstdint>

namespace fastdnn {

// Keras' L1L2 regularizer on w: returns l1·Σ|w| + l2·Σw² and, when g is not
// null, adds its gradient l1·sign(w) + 2·l2·w to g.
double regularize(float* g, const float* w, int64_t n, float l1, float l2);

// Σ v², in fixed chunks combined in order (for clipnorm and global_clipnorm).
double sum_of_squares(const float* v, int64_t n);

// v ← v·s
void scale_in_place(float* v, int64_t n, float s);

// g ← clip(g, −limit, limit)   (clipvalue)
void clip_by_value(float* g, int64_t n, float limit);

// Decoupled weight decay, applied before the update: w ← w − w·factor, factor = weight_decay·lr
void decay_weights(float* w, int64_t n, float factor);

}  // namespace fastdnn
