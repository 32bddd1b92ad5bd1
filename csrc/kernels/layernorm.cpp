#include "kernels/layernorm.h"

#include <cmath>

#include "kernels/parallel.h"

namespace fastdnn {

void layernorm_forward(float* y, float* xhat, float* mean, float* inv_std, const float* x,
                       const float* gamma, const float* beta, int64_t B, int64_t C, float epsilon,
                       bool rms_scaling) {
  parallel_rows(B, C, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* xr = x + r * C;
      // Double sums: a row's mean and variance are exact to float32 whatever C is.
      double sum = 0.0;
      for (int64_t c = 0; c < C; ++c) sum += xr[c];
      const double mu = sum / double(C);
      double squares = 0.0;
      for (int64_t c = 0; c < C; ++c) squares += (xr[c] - mu) * (xr[c] - mu);
      const double s = 1.0 / std::sqrt(squares / double(C) + double(epsilon));
      const double center = rms_scaling ? 0.0 : mu;
      float* yr = y + r * C;
      for (int64_t c = 0; c < C; ++c) {
        const float h = float((xr[c] - center) * s);
        if (xhat) xhat[r * C + c] = h;
        yr[c] = (gamma ? gamma[c] * h : h) + (beta ? beta[c] : 0.0f);
      }
      if (mean) mean[r] = float(mu);
      if (inv_std) inv_std[r] = float(s);
    }
  });
}

void layernorm_backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* xhat,
                        const float* mean, const float* inv_std, const float* gamma, int64_t B,
                        int64_t C, bool rms_scaling) {
  if (dgamma || dbeta) {
    // A column's rows are added in order by one thread: the sums do not depend on the threads.
    parallel_column_blocks(B, C, [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; ++c) {
        if (dgamma) dgamma[c] = 0.0f;
        if (dbeta) dbeta[c] = 0.0f;
      }
      for (int64_t r = 0; r < B; ++r) {
        for (int64_t c = c0; c < c1; ++c) {
          if (dgamma) dgamma[c] += dy[r * C + c] * xhat[r * C + c];
          if (dbeta) dbeta[c] += dy[r * C + c];
        }
      }
    });
  }
  if (!dx) return;
  parallel_rows(B, C, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* dyr = dy + r * C;
      const float* hr = xhat + r * C;
      const double s = inv_std[r];
      // c = x̂ − μ·s in rms mode (x̂ = x·s there), x̂ otherwise.
      const double shift = rms_scaling ? double(mean[r]) * s : 0.0;
      double sum_g = 0.0, sum_g_h = 0.0;
      for (int64_t c = 0; c < C; ++c) {
        const double g = gamma ? double(gamma[c]) * dyr[c] : double(dyr[c]);
        sum_g += g;
        sum_g_h += g * (rms_scaling ? hr[c] : hr[c] - shift);
      }
      const double mean_g = rms_scaling ? 0.0 : sum_g / double(C);
      const double mean_g_h = sum_g_h / double(C);
      float* dxr = dx + r * C;
      for (int64_t c = 0; c < C; ++c) {
        const double g = gamma ? double(gamma[c]) * dyr[c] : double(dyr[c]);
        dxr[c] = float(s * (g - mean_g - (hr[c] - shift) * mean_g_h));
      }
    }
  });
}

}  // namespace fastdnn
