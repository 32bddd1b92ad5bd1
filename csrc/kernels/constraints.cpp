#include "kernels/constraints.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace fastdnn {

void non_neg_constraint(float* w, int64_t n) {
  for (int64_t i = 0; i < n; ++i) w[i] = std::max(w[i], 0.0f);
}

namespace {

// The factor d/(ε + ν) for one norm ν, in double as Keras' float64 reference computes it.
double rescale_factor(double norm, double min_value, double max_value, double rate) {
  const double desired = rate * std::min(std::max(norm, min_value), max_value) + (1.0 - rate) * norm;
  return desired / (kConstraintEpsilon + norm);
}

}  // namespace

void min_max_norm_constraint(float* w, int64_t rows, int64_t cols, int axis, float min_value,
                             float max_value, float rate) {
  // The sums of squares accumulate in double: a column of a large kernel has ~1e3-1e4 entries.
  if (axis == 0) {
    std::vector<double> factor(size_t(cols), 0.0);
    for (int64_t r = 0; r < rows; ++r) {
      const float* row = w + r * cols;
      for (int64_t c = 0; c < cols; ++c) factor[size_t(c)] += double(row[c]) * double(row[c]);
    }
    for (double& f : factor) f = rescale_factor(std::sqrt(f), min_value, max_value, rate);
    for (int64_t r = 0; r < rows; ++r) {
      float* row = w + r * cols;
      for (int64_t c = 0; c < cols; ++c) row[c] = float(double(row[c]) * factor[size_t(c)]);
    }
    return;
  }
  for (int64_t r = 0; r < rows; ++r) {
    float* row = w + r * cols;
    double sum = 0.0;
    for (int64_t c = 0; c < cols; ++c) sum += double(row[c]) * double(row[c]);
    const double f = rescale_factor(std::sqrt(sum), min_value, max_value, rate);
    for (int64_t c = 0; c < cols; ++c) row[c] = float(double(row[c]) * f);
  }
}

}  // namespace fastdnn
