#include "kernels/dense.h"

#include <algorithm>

#include "kernels/matmul.h"
#include "kernels/parallel.h"

namespace fastdnn {

void dense_forward(float* y, const float* x, const float* W, const float* b, int64_t B,
                   int64_t in, int64_t out) {
  if (b == nullptr) {
    matmul(y, x, W, B, out, in, false, false);
    return;
  }
  // The bias is the product's starting value (beta = 1): one pass over y fewer
  // than adding it afterwards.
  parallel_rows(B, out, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) std::copy(b, b + out, y + r * out);
  });
  gemm(false, false, B, out, in, x, in, W, out, 1.0f, y, out);
}

void dense_backward(float* dx, float* dW, float* db, const float* dy, const float* x,
                    const float* W, int64_t B, int64_t in, int64_t out) {
  if (dx != nullptr) matmul(dx, dy, W, B, in, out, false, true);
  if (dW != nullptr) matmul(dW, x, dy, in, out, B, true, false);
  if (db != nullptr) column_sums(db, dy, B, out);
}

void column_sums(float* sums, const float* x, int64_t rows, int64_t cols) {
  parallel_column_blocks(rows, cols, [&](int64_t c0, int64_t c1) {
    std::fill(sums + c0, sums + c1, 0.0f);
    for (int64_t r = 0; r < rows; ++r) {
      const float* xr = x + r * cols;
      for (int64_t c = c0; c < c1; ++c) sums[c] += xr[c];
    }
  });
}

}  // namespace fastdnn
