#include "kernels/merge.h"

#include <cstring>

#include "kernels/parallel.h"

namespace fastdnn {

namespace {

bool adds(const bool* accumulate, int k) { return accumulate && accumulate[k]; }

// dx = dy·factor, or dx += dy·factor; a factor of 1 multiplies nothing.
void write_scaled(float* dx, bool add, const float* dy, int64_t n, float factor) {
  if (!dx) return;
  if (!add && factor == 1.0f) {
    std::memcpy(dx, dy, sizeof(float) * size_t(n));
    return;
  }
  parallel_elementwise(n, [&](int64_t begin, int64_t end) {
    if (add) {
      for (int64_t i = begin; i < end; ++i) dx[i] += dy[i] * factor;
    } else {
      for (int64_t i = begin; i < end; ++i) dx[i] = dy[i] * factor;
    }
  });
}

}  // namespace

void merge_sum_forward(float* y, const float* const* x, int inputs, int64_t n, float divisor) {
  parallel_elementwise(n, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      float s = x[0][i];
      for (int k = 1; k < inputs; ++k) s += x[k][i];
      y[i] = divisor == 1.0f ? s : s / divisor;
    }
  });
}

void merge_sum_backward(float* const* dx, const bool* accumulate, const float* dy, int inputs, int64_t n,
                        float divisor) {
  for (int k = 0; k < inputs; ++k) write_scaled(dx[k], adds(accumulate, k), dy, n, 1.0f / divisor);
}

void merge_subtract_forward(float* y, const float* a, const float* b, int64_t n) {
  parallel_elementwise(n, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) y[i] = a[i] - b[i];
  });
}

void merge_subtract_backward(float* const* dx, const bool* accumulate, const float* dy, int64_t n) {
  write_scaled(dx[0], adds(accumulate, 0), dy, n, 1.0f);
  write_scaled(dx[1], adds(accumulate, 1), dy, n, -1.0f);
}

void merge_multiply_forward(float* y, const float* const* x, int inputs, int64_t n) {
  parallel_elementwise(n, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      float p = x[0][i];
      for (int k = 1; k < inputs; ++k) p *= x[k][i];
      y[i] = p;
    }
  });
}

void merge_multiply_backward(float* const* dx, const bool* accumulate, const float* dy, const float* const* x,
                             int inputs, int64_t n) {
  for (int k = 0; k < inputs; ++k) {
    float* d = dx[k];
    if (!d) continue;
    const bool add = adds(accumulate, k);
    parallel_elementwise(n, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        float others = 1.0f;
        for (int j = 0; j < inputs; ++j) {
          if (j != k) others *= x[j][i];
        }
        const float g = dy[i] * others;
        d[i] = add ? d[i] + g : g;
      }
    });
  }
}

void merge_extreme_forward(float* y, const float* const* x, int inputs, int64_t n, bool maximum) {
  parallel_elementwise(n, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      float m = x[0][i];
      for (int k = 1; k < inputs; ++k) {
        const float v = x[k][i];
        if (maximum ? v > m : v < m) m = v;
      }
      y[i] = m;
    }
  });
}

void merge_extreme_backward(float* const* dx, const bool* accumulate, const float* dy, const float* const* x,
                            int inputs, int64_t n, bool maximum) {
  parallel_elementwise(n, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      int winner = 0;
      float m = x[0][i];
      for (int k = 1; k < inputs; ++k) {
        const float v = x[k][i];
        if (maximum ? v > m : v < m) {
          m = v;
          winner = k;
        }
      }
      // In input order, so that a tensor read twice gets its assignment before its addition.
      for (int k = 0; k < inputs; ++k) {
        if (!dx[k]) continue;
        const float g = k == winner ? dy[i] : 0.0f;
        dx[k][i] = adds(accumulate, k) ? dx[k][i] + g : g;
      }
    }
  });
}

void concatenate_forward(float* y, const float* const* x, const int64_t* widths, int inputs, int64_t rows,
                         int64_t blocks) {
  int64_t out_part = 0;
  for (int k = 0; k < inputs; ++k) out_part += widths[k] / blocks;
  parallel_rows(rows * blocks, out_part, [&](int64_t begin, int64_t end) {
    for (int64_t rb = begin; rb < end; ++rb) {  // one (row, block) pair
      float* out = y + rb * out_part;
      for (int k = 0; k < inputs; ++k) {
        const int64_t part = widths[k] / blocks;
        std::memcpy(out, x[k] + rb * part, sizeof(float) * size_t(part));
        out += part;
      }
    }
  });
}

void concatenate_backward(float* const* dx, const bool* accumulate, const float* dy, const int64_t* widths,
                          int inputs, int64_t rows, int64_t blocks) {
  int64_t out_part = 0;
  for (int k = 0; k < inputs; ++k) out_part += widths[k] / blocks;
  parallel_rows(rows * blocks, out_part, [&](int64_t begin, int64_t end) {
    // Input by input, so that a tensor read twice gets its assignment (over all its rows
    // in this chunk) before its addition.
    int64_t column = 0;
    for (int k = 0; k < inputs; ++k) {
      const int64_t part = widths[k] / blocks;
      if (dx[k]) {
        const bool add = adds(accumulate, k);
        for (int64_t rb = begin; rb < end; ++rb) {
          const float* g = dy + rb * out_part + column;
          float* d = dx[k] + rb * part;
          if (add) {
            for (int64_t c = 0; c < part; ++c) d[c] += g[c];
          } else {
            std::memcpy(d, g, sizeof(float) * size_t(part));
          }
        }
      }
      column += part;
    }
  });
}

void accumulate_into(float* y, const float* x, int64_t n) {
  parallel_elementwise(n, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) y[i] += x[i];
  });
}

}  // namespace fastdnn
