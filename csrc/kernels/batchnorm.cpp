#include "kernels/batchnorm.h"

#include <cmath>

#include "kernels/parallel.h"

namespace fastdnn {

void batchnorm_forward_train(float* y, float* xhat, float* mean, float* var, float* inv_std,
                             const float* x, const float* gamma, const float* beta, int64_t B,
                             int64_t C, float epsilon) {
  parallel_column_blocks(B, C, [&](int64_t c0, int64_t c1) {
    // Two passes (mean, then squared deviations) in double: exact enough for
    // any batch, where mean(x²) − mean(x)² would cancel catastrophically.
    double acc[kColumnBlock] = {};
    for (int64_t r = 0; r < B; ++r) {
      const float* xr = x + r * C;
      for (int64_t c = c0; c < c1; ++c) acc[c - c0] += xr[c];
    }
    for (int64_t c = c0; c < c1; ++c) mean[c] = float(acc[c - c0] / double(B));
    for (int64_t c = c0; c < c1; ++c) acc[c - c0] = 0.0;
    for (int64_t r = 0; r < B; ++r) {
      const float* xr = x + r * C;
      for (int64_t c = c0; c < c1; ++c) {
        const double d = double(xr[c]) - double(mean[c]);
        acc[c - c0] += d * d;
      }
    }
    for (int64_t c = c0; c < c1; ++c) {
      var[c] = float(acc[c - c0] / double(B));
      inv_std[c] = float(1.0 / std::sqrt(double(var[c]) + double(epsilon)));
    }
    for (int64_t r = 0; r < B; ++r) {
      const float* xr = x + r * C;
      float* hr = xhat + r * C;
      float* yr = y + r * C;
      for (int64_t c = c0; c < c1; ++c) {
        const float h = (xr[c] - mean[c]) * inv_std[c];
        hr[c] = h;
        yr[c] = (gamma ? gamma[c] : 1.0f) * h + (beta ? beta[c] : 0.0f);
      }
    }
  });
}

void batchnorm_update_moving(float* moving_mean, float* moving_var, const float* mean,
                             const float* var, int64_t C, double momentum) {
  const float keep = float(momentum), take = float(1.0 - momentum);
  for (int64_t c = 0; c < C; ++c) {
    moving_mean[c] = moving_mean[c] * keep + mean[c] * take;
    moving_var[c] = moving_var[c] * keep + var[c] * take;
  }
}

void batchnorm_inference_coefficients(float* scale, float* shift, const float* gamma,
                                      const float* beta, const float* moving_mean,
                                      const float* moving_var, int64_t C, float epsilon) {
  for (int64_t c = 0; c < C; ++c) {
    scale[c] = float((gamma ? gamma[c] : 1.0f) / std::sqrt(double(moving_var[c]) + epsilon));
    shift[c] = (beta ? beta[c] : 0.0f) - moving_mean[c] * scale[c];
  }
}

void batchnorm_forward_infer(float* y, const float* x, const float* scale, const float* shift,
                             int64_t B, int64_t C) {
  parallel_rows(B, C, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* xr = x + r * C;
      float* yr = y + r * C;
      for (int64_t c = 0; c < C; ++c) yr[c] = xr[c] * scale[c] + shift[c];
    }
  });
}

void batchnorm_backward(float* dx, float* dgamma, float* dbeta, const float* dy,
                        const float* xhat, const float* inv_std, const float* gamma, int64_t B,
                        int64_t C) {
  parallel_column_blocks(B, C, [&](int64_t c0, int64_t c1) {
    double sum_dy[kColumnBlock] = {}, sum_dy_xhat[kColumnBlock] = {};
    for (int64_t r = 0; r < B; ++r) {
      const float* dyr = dy + r * C;
      const float* hr = xhat + r * C;
      for (int64_t c = c0; c < c1; ++c) {
        sum_dy[c - c0] += dyr[c];
        sum_dy_xhat[c - c0] += double(dyr[c]) * hr[c];
      }
    }
    for (int64_t c = c0; c < c1; ++c) {
      dbeta[c] = float(sum_dy[c - c0]);
      dgamma[c] = float(sum_dy_xhat[c - c0]);
    }
    if (dx == nullptr) return;
    const float inv_b = 1.0f / float(B);
    for (int64_t r = 0; r < B; ++r) {
      const float* dyr = dy + r * C;
      const float* hr = xhat + r * C;
      float* dxr = dx + r * C;
      for (int64_t c = c0; c < c1; ++c) {
        const float k = (gamma ? gamma[c] : 1.0f) * inv_std[c];
        dxr[c] = k * (dyr[c] - (dbeta[c] + hr[c] * dgamma[c]) * inv_b);
      }
    }
  });
}

void batchnorm_backward_infer(float* dx, const float* dy, const float* scale, int64_t B,
                              int64_t C) {
  parallel_rows(B, C, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      for (int64_t c = 0; c < C; ++c) dx[r * C + c] = dy[r * C + c] * scale[c];
    }
  });
}

}  // namespace fastdnn
