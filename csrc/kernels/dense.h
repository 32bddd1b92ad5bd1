// Dense (fully connected) layer, as Keras stores it: kernel W is (in, out).
#pragma once
#include <cstdint>

namespace fastdnn {

// y = x·W + b        x (B,in), W (in,out), b (out) or null, y (B,out)
void dense_forward(float* y, const float* x, const float* W, const float* b, int64_t B,
                   int64_t in, int64_t out);

// dx = dy·Wᵀ, dW = xᵀ·dy, db = Σ_rows dy     (each output may be null: not needed)
void dense_backward(float* dx, float* dW, float* db, const float* dy, const float* x,
                    const float* W, int64_t B, int64_t in, int64_t out);

// sums[c] = Σ_r x[r,c]    x (rows, cols); rows added in order, so the result
// never depends on the thread count.
void column_sums(float* sums, const float* x, int64_t rows, int64_t cols);

}  // namespace fastdnn
