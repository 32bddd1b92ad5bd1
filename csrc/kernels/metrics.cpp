#include "kernels/metrics.h"

#include <algorithm>

namespace fastdnn {

namespace {
int64_t argmax(const float* v, int64_t n) { return std::max_element(v, v + n) - v; }
}  // namespace

int64_t sparse_categorical_hits(const float* p, const int32_t* labels, int64_t B, int64_t C) {
  int64_t hits = 0;
  for (int64_t i = 0; i < B; ++i) hits += argmax(p + i * C, C) == labels[i];
  return hits;
}

int64_t categorical_hits(const float* p, const float* y, int64_t B, int64_t C) {
  int64_t hits = 0;
  for (int64_t i = 0; i < B; ++i) hits += argmax(p + i * C, C) == argmax(y + i * C, C);
  return hits;
}

double binary_hits(const float* p, const float* y, int64_t B, int64_t C, float threshold) {
  double hits = 0.0;
  for (int64_t i = 0; i < B; ++i) {
    int64_t row = 0;
    for (int64_t j = i * C; j < (i + 1) * C; ++j) row += float(p[j] > threshold) == y[j];
    hits += double(row) / double(C);
  }
  return hits;
}

}  // namespace fastdnn
