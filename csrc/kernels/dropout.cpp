#include "kernels/dropout.h"

#include <cmath>
#include <cstring>

#include "kernels/parallel.h"
#include "kernels/philox.h"

namespace fastdnn {

void dropout_forward(float* y, float* mask, const float* x, int64_t n, double rate, uint64_t seed,
                     uint64_t stream, uint64_t offset) {
  const float scale = float(1.0 / (1.0 - rate));
  parallel_elementwise(n, [&](int64_t begin, int64_t end) {
    for_each_uniform(seed, stream, offset, begin, end, [&](int64_t i, float u) {
      mask[i] = u >= rate ? scale : 0.0f;
      y[i] = x[i] * mask[i];
    });
  });
}

void alpha_dropout_forward(float* y, float* mask, const float* x, int64_t n, double rate,
                           uint64_t seed, uint64_t stream, uint64_t offset) {
  const double alpha = 1.6732632423543772848170429916717;
  const double lambda = 1.0507009873554804934193349852946;
  const double alpha_p = -lambda * alpha;
  const double p = rate;
  const double a = 1.0 / std::sqrt((1.0 - p) * (1.0 + p * alpha_p * alpha_p));
  const double b = -a * alpha_p * p;
  const float a_f = float(a), b_f = float(b), dropped = float(a * alpha_p + b);
  parallel_elementwise(n, [&](int64_t begin, int64_t end) {
    for_each_uniform(seed, stream, offset, begin, end, [&](int64_t i, float u) {
      const bool keep = u >= rate;
      mask[i] = keep ? a_f : 0.0f;
      y[i] = keep ? a_f * x[i] + b_f : dropped;
    });
  });
}

void mask_backward(float* dx, const float* dy, const float* mask, int64_t n) {
  if (!mask) {
    std::memcpy(dx, dy, sizeof(float) * size_t(n));
    return;
  }
  parallel_elementwise(n, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) dx[i] = dy[i] * mask[i];
  });
}

}  // namespace fastdnn
