// ActivityRegularization: the identity, plus a penalty on its input added to the loss.
#pragma once
#include <cstdint>

namespace fastdnn {

// Σ_i l1·|x_i| + l2·x_i²  (summed in fixed chunks: the same on any thread count).
double activity_penalty(const float* x, int64_t n, double l1, double l2);

// dx = dy + scale·(l1·sign(x) + 2·l2·x)   (sign(0) = 0; Keras' scale is 1/batch size).
void activity_regularization_backward(float* dx, const float* dy, const float* x, int64_t n,
                                      double l1, double l2, double scale);

}  // namespace fastdnn
