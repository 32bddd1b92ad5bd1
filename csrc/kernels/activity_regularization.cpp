#include "kernels/activity_regularization.h"

#include <cmath>

#include "kernels/parallel.h"

namespace fastdnn {

double activity_penalty(const float* x, int64_t n, double l1, double l2) {
  return deterministic_sum(n, kElementChunk, [&](int64_t i) {
    const double v = x[i];
    return l1 * std::fabs(v) + l2 * v * v;
  });
}

void activity_regularization_backward(float* dx, const float* dy, const float* x, int64_t n,
                                      double l1, double l2, double scale) {
  const float a = float(scale * l1), b = float(2.0 * scale * l2);
  parallel_elementwise(n, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const float sign = float((x[i] > 0.0f) - (x[i] < 0.0f));
      dx[i] = dy[i] + a * sign + b * x[i];
    }
  });
}

}  // namespace fastdnn
