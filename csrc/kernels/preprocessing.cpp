#include "kernels/preprocessing.h"

#include <algorithm>
#include <cmath>

#include "kernels/parallel.h"

namespace fastdnn {

void normalization_denominators(float* denominator, const float* variance, int64_t C, float epsilon) {
  // Keras takes the square root in the compute dtype, then the maximum.
  for (int64_t c = 0; c < C; ++c) denominator[c] = std::max(std::sqrt(variance[c]), epsilon);
}

void normalization_forward(float* y, const float* x, const float* mean, const float* denominator,
                           int64_t B, int64_t C, bool invert) {
  parallel_rows(B, C, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* xr = x + r * C;
      float* yr = y + r * C;
      if (invert) {
        for (int64_t c = 0; c < C; ++c) yr[c] = mean[c] + xr[c] * denominator[c];
      } else {
        for (int64_t c = 0; c < C; ++c) yr[c] = (xr[c] - mean[c]) / denominator[c];
      }
    }
  });
}

void normalization_backward(float* dx, const float* dy, const float* denominator, int64_t B,
                            int64_t C, bool invert) {
  parallel_rows(B, C, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      for (int64_t c = 0; c < C; ++c) {
        dx[r * C + c] = invert ? dy[r * C + c] * denominator[c] : dy[r * C + c] / denominator[c];
      }
    }
  });
}

void rescaling_forward(float* y, const float* x, const float* scale, const float* offset, int64_t B,
                       int64_t C) {
  parallel_rows(B, C, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      for (int64_t c = 0; c < C; ++c) y[r * C + c] = x[r * C + c] * scale[c] + offset[c];
    }
  });
}

void rescaling_backward(float* dx, const float* dy, const float* scale, int64_t B, int64_t C) {
  parallel_rows(B, C, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      for (int64_t c = 0; c < C; ++c) dx[r * C + c] = dy[r * C + c] * scale[c];
    }
  });
}

}  // namespace fastdnn
