// Shared by the loss kernels: Keras' "sum_over_batch_size" reduction with an
// optional weight per row (sample_weight), deterministic at any thread count.
// Without weights (w == nullptr) every row's weight is exactly 1.0, so the
// results are bitwise those of the unweighted sums.
#pragma once
#include <algorithm>
#include <cstdint>
#include <utility>

#include "kernels/parallel.h"

namespace fastdnn::loss_rows {

// (1/B)·Σ_r w_r·row_loss(r, s_r), where s_r = w_r/B is the factor row r's
// gradient takes (dL/dp_r = s_r · d row_loss/dp_r).
template <class RowLoss>
double weighted_mean(int64_t B, int64_t C, const float* w, RowLoss row_loss) {
  const double inv_b = 1.0 / double(B);
  const int64_t rows_per_chunk = std::max<int64_t>(1, kElementChunk / std::max<int64_t>(1, C));
  return deterministic_sum(B, rows_per_chunk, [&](int64_t r) {
    const double weight = w ? double(w[r]) : 1.0;
    return weight * row_loss(r, weight * inv_b);
  }) * inv_b;
}

// A per-entry loss reduced over the C columns of a row by a mean (Keras'
// ops.mean(..., axis=-1)) or a sum (ops.sum), then weighted over the rows;
// term(p, y) gives (loss, dloss/dp) of one entry.
template <class Term>
double entrywise(float* dp, const float* p, const float* y, const float* w, int64_t B, int64_t C,
                 bool mean_over_columns, Term term) {
  const double per_row = mean_over_columns ? 1.0 / double(C) : 1.0;
  return weighted_mean(B, C, w, [&](int64_t r, double scale) {
    double loss = 0.0;
    for (int64_t j = r * C; j < (r + 1) * C; ++j) {
      const auto [value, grad] = term(double(p[j]), double(y[j]));
      loss += value;
      if (dp) dp[j] = float(grad * scale * per_row);
    }
    return loss * per_row;
  });
}

}  // namespace fastdnn::loss_rows
