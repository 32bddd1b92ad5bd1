#include "kernels/leaky_relu_variants.h"

#include "kernels/parallel.h"
#include "kernels/philox.h"

namespace fastdnn {

void prelu_forward(float* y, const float* x, const float* alpha, int64_t alpha_size,
                   int64_t rows, int64_t cols) {
  parallel_rows(rows, cols, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      for (int64_t c = 0; c < cols; ++c) {
        const float v = x[r * cols + c];
        y[r * cols + c] = v > 0.0f ? v : alpha[alpha_size == 1 ? 0 : c] * v;
      }
    }
  });
}

void prelu_backward(float* dx, float* dalpha, const float* dy, const float* x,
                    const float* alpha, int64_t alpha_size, int64_t rows, int64_t cols) {
  if (alpha_size == 1) {  // one shared α: a single serial sum
    double acc = 0.0;
    for (int64_t i = 0; i < rows * cols; ++i) {
      if (dx) dx[i] = x[i] > 0.0f ? dy[i] : alpha[0] * dy[i];
      if (x[i] < 0.0f) acc += double(dy[i]) * x[i];
    }
    dalpha[0] = float(acc);
    return;
  }
  // dα is a reduction over the batch: per column, rows in order (see parallel.h).
  parallel_column_blocks(rows, cols, [&](int64_t c0, int64_t c1) {
    double acc[kColumnBlock] = {};
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = c0; c < c1; ++c) {
        const float v = x[r * cols + c], g = dy[r * cols + c];
        if (dx) dx[r * cols + c] = v > 0.0f ? g : alpha[c] * g;
        if (v < 0.0f) acc[c - c0] += double(g) * v;
      }
    }
    for (int64_t c = c0; c < c1; ++c) dalpha[c] = float(acc[c - c0]);
  });
}

void rrelu_forward(float* y, float* multiplier, const float* x, int64_t n, float lower,
                   float upper, bool training, uint64_t seed, uint64_t stream, uint64_t offset) {
  if (!training) {
    const float slope = 0.5f * (lower + upper);
    parallel_elementwise(n, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        multiplier[i] = x[i] >= 0.0f ? 1.0f : slope;
        y[i] = x[i] * multiplier[i];
      }
    });
    return;
  }
  parallel_elementwise(n, [&](int64_t begin, int64_t end) {
    for_each_uniform(seed, stream, offset, begin, end, [&](int64_t i, float u) {
      multiplier[i] = x[i] >= 0.0f ? 1.0f : lower + (upper - lower) * u;
      y[i] = x[i] * multiplier[i];
    });
  });
}

}  // namespace fastdnn
