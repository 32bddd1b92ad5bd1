#include "kernels/losses_extra.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "kernels/loss_rows.h"
#include "kernels/losses.h"

namespace fastdnn {

namespace {

constexpr double kEps = double(kProbabilityEpsilon);

// Keras' convert_binary_labels_to_hinge: over the whole batch, labels that are
// all 0 or 1 mean {−1, 1}; anything else is taken as given.
bool binary_labels(const float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    if (y[i] != 0.0f && y[i] != 1.0f) return false;
  }
  return true;
}

// log(1 + e^x) without overflow.
double softplus(double x) { return std::max(x, 0.0) + std::log1p(std::exp(-std::abs(x))); }

double sign(double x) { return x > 0 ? 1.0 : x < 0 ? -1.0 : 0.0; }

}  // namespace

double huber(float* dp, const float* p, const float* y, int64_t B, int64_t C, double delta,
             const float* w) {
  return loss_rows::entrywise(dp, p, y, w, B, C, true, [delta](double v, double t) {
    const double e = v - t, a = std::abs(e);
    return a <= delta ? std::make_pair(0.5 * e * e, e)
                      : std::make_pair(delta * a - 0.5 * delta * delta, delta * sign(e));
  });
}

double log_cosh(float* dp, const float* p, const float* y, int64_t B, int64_t C, const float* w) {
  return loss_rows::entrywise(dp, p, y, w, B, C, true, [](double v, double t) {
    const double e = v - t;
    return std::make_pair(e + softplus(-2.0 * e) - std::log(2.0), std::tanh(e));
  });
}

double kl_divergence(float* dp, const float* p, const float* y, int64_t B, int64_t C,
                     const float* w) {
  return loss_rows::entrywise(dp, p, y, w, B, C, false, [](double v, double t) {
    const double tc = std::min(std::max(t, kEps), 1.0), vc = std::min(std::max(v, kEps), 1.0);
    const bool passes = v >= kEps && v <= 1.0;
    return std::make_pair(tc * std::log(tc / vc), passes ? -tc / vc : 0.0);
  });
}

double poisson(float* dp, const float* p, const float* y, int64_t B, int64_t C, const float* w) {
  return loss_rows::entrywise(dp, p, y, w, B, C, true, [](double v, double t) {
    return std::make_pair(v - t * std::log(v + kEps), 1.0 - t / (v + kEps));
  });
}

double hinge(float* dp, const float* p, const float* y, int64_t B, int64_t C, const float* w) {
  const bool convert = binary_labels(y, B * C);
  return loss_rows::entrywise(dp, p, y, w, B, C, true, [convert](double v, double t) {
    if (convert) t = 2.0 * t - 1.0;
    const double margin = 1.0 - t * v;
    return margin > 0 ? std::make_pair(margin, -t) : std::make_pair(0.0, 0.0);
  });
}

double squared_hinge(float* dp, const float* p, const float* y, int64_t B, int64_t C,
                     const float* w) {
  const bool convert = binary_labels(y, B * C);
  return loss_rows::entrywise(dp, p, y, w, B, C, true, [convert](double v, double t) {
    if (convert) t = 2.0 * t - 1.0;
    const double margin = std::max(1.0 - t * v, 0.0);
    return std::make_pair(margin * margin, -2.0 * t * margin);
  });
}

double mean_absolute_percentage_error(float* dp, const float* p, const float* y, int64_t B,
                                      int64_t C, const float* w) {
  return loss_rows::entrywise(dp, p, y, w, B, C, true, [](double v, double t) {
    const double scale = 100.0 / std::max(std::abs(t), kEps);
    return std::make_pair(std::abs(t - v) * scale, sign(v - t) * scale);
  });
}

double mean_squared_logarithmic_error(float* dp, const float* p, const float* y, int64_t B,
                                      int64_t C, const float* w) {
  return loss_rows::entrywise(dp, p, y, w, B, C, true, [](double v, double t) {
    const double d = std::log(std::max(v, kEps) + 1.0) - std::log(std::max(t, kEps) + 1.0);
    return std::make_pair(d * d, v > kEps ? 2.0 * d / (v + 1.0) : 0.0);
  });
}

double cosine_similarity(float* dp, const float* p, const float* y, int64_t B, int64_t C,
                         const float* w) {
  // Keras' l2 normalization: x·min(rsqrt(Σx²), 1/ε).
  auto inverse_norm = [](const float* x, int64_t n, bool* clipped) {
    double squares = 0.0;
    for (int64_t j = 0; j < n; ++j) squares += double(x[j]) * double(x[j]);
    const double inv = squares > 0 ? 1.0 / std::sqrt(squares) : INFINITY;
    *clipped = inv > 1.0 / kEps;
    return *clipped ? 1.0 / kEps : inv;
  };
  return loss_rows::weighted_mean(B, C, w, [&](int64_t r, double scale) {
    const float* pr = p + r * C;
    const float* yr = y + r * C;
    bool p_clipped = false, y_clipped = false;
    const double inv_p = inverse_norm(pr, C, &p_clipped), inv_y = inverse_norm(yr, C, &y_clipped);
    double dot = 0.0;  // n(p)·n(y)
    for (int64_t j = 0; j < C; ++j) dot += double(pr[j]) * inv_p * double(yr[j]) * inv_y;
    if (dp) {
      for (int64_t j = 0; j < C; ++j) {
        const double ny = double(yr[j]) * inv_y, np = double(pr[j]) * inv_p;
        const double g = p_clipped ? -ny * inv_p : -(ny - np * dot) * inv_p;
        dp[r * C + j] = float(g * scale);
      }
    }
    return -dot;
  });
}

}  // namespace fastdnn
