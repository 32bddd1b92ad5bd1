#include "kernels/gradient_transforms.h"

#include <algorithm>
#include <cmath>

#include "kernels/parallel.h"

namespace fastdnn {

double regularize(float* g, const float* w, int64_t n, float l1, float l2) {
  if (l1 == 0.0f && l2 == 0.0f) return 0.0;
  return deterministic_sum(n, kElementChunk, [&](int64_t i) {
    if (g) g[i] += l1 * float((w[i] > 0.0f) - (w[i] < 0.0f)) + 2.0f * l2 * w[i];
    return double(l1) * std::abs(w[i]) + double(l2) * double(w[i]) * w[i];
  });
}

double sum_of_squares(const float* v, int64_t n) {
  return deterministic_sum(n, kElementChunk, [&](int64_t i) { return double(v[i]) * v[i]; });
}

void scale_in_place(float* v, int64_t n, float s) {
  parallel_elementwise(n, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) v[i] *= s;
  });
}

void clip_by_value(float* g, int64_t n, float limit) {
  parallel_elementwise(n, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) g[i] = std::min(std::max(g[i], -limit), limit);
  });
}

void decay_weights(float* w, int64_t n, float factor) {
  parallel_elementwise(n, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) w[i] -= w[i] * factor;
  });
}

}  // namespace fastdnn
