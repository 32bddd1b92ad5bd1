#include "kernels/losses.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "kernels/loss_rows.h"

namespace fastdnn {

namespace {

// log Σ_j e^{z_j}, and softmax into `p` (may be null).
double logsumexp_softmax(float* p, const float* z, int64_t C) {
  const float m = *std::max_element(z, z + C);
  double sum = 0.0;
  for (int64_t j = 0; j < C; ++j) sum += std::exp(double(z[j]) - m);
  if (p) {
    for (int64_t j = 0; j < C; ++j) p[j] = float(std::exp(double(z[j]) - m) / sum);
  }
  return m + std::log(sum);
}

// Gradient of a loss that saw p̂ = p/S (S = Σp, then clipped), given g(j) = dL/dp̂_j:
// dp_k = (g_k − Σ_j g_j p_j/S)/S, then scaled by the row's w/B.
template <class Grad>
void renormalization_backward(float* dp, const float* p, double sum, Grad g, int64_t C,
                              double scale) {
  double gp = 0.0;
  for (int64_t j = 0; j < C; ++j) gp += g(j) * p[j];
  for (int64_t j = 0; j < C; ++j) dp[j] = float((g(j) - gp / sum) / sum * scale);
}

double clip_probability(double p) {
  return std::min(std::max(p, double(kProbabilityEpsilon)), 1.0 - double(kProbabilityEpsilon));
}

bool is_clipped(double p) {
  return p < double(kProbabilityEpsilon) || p > 1.0 - double(kProbabilityEpsilon);
}

}  // namespace

double sparse_softmax_crossentropy(float* dz, const float* z, const int32_t* labels, int64_t B,
                                   int64_t C, const float* w) {
  return loss_rows::weighted_mean(B, C, w, [&](int64_t r, double scale) {
    const float* zr = z + r * C;
    const int32_t t = labels[r];
    float* dzr = dz ? dz + r * C : nullptr;
    const double lse = logsumexp_softmax(dzr, zr, C);
    if (dzr) {
      for (int64_t j = 0; j < C; ++j) dzr[j] = float((dzr[j] - (j == t ? 1.0 : 0.0)) * scale);
    }
    return lse - zr[t];
  });
}

double softmax_crossentropy(float* dz, const float* z, const float* y, int64_t B, int64_t C, const float* w) {
  return loss_rows::weighted_mean(B, C, w, [&](int64_t r, double scale) {
    const float* zr = z + r * C;
    const float* yr = y + r * C;
    float* dzr = dz ? dz + r * C : nullptr;
    const double lse = logsumexp_softmax(dzr, zr, C);
    double loss = 0.0, y_sum = 0.0;
    for (int64_t j = 0; j < C; ++j) {
      loss -= double(yr[j]) * (double(zr[j]) - lse);
      y_sum += yr[j];
    }
    if (dzr) {
      for (int64_t j = 0; j < C; ++j) dzr[j] = float((dzr[j] * y_sum - yr[j]) * scale);
    }
    return loss;
  });
}

double crossentropy(float* dp, const float* p, const float* y, int64_t B, int64_t C, const float* w) {
  return loss_rows::weighted_mean(B, C, w, [&](int64_t r, double scale) {
    const float* pr = p + r * C;
    const float* yr = y + r * C;
    double sum = 0.0, loss = 0.0;
    for (int64_t j = 0; j < C; ++j) sum += pr[j];
    for (int64_t j = 0; j < C; ++j) loss -= double(yr[j]) * std::log(clip_probability(pr[j] / sum));
    if (dp) {
      auto g = [&](int64_t j) {
        const double q = pr[j] / sum;
        return is_clipped(q) ? 0.0 : -double(yr[j]) / q;
      };
      renormalization_backward(dp + r * C, pr, sum, g, C, scale);
    }
    return loss;
  });
}

double sparse_crossentropy(float* dp, const float* p, const int32_t* labels, int64_t B,
                           int64_t C, const float* w) {
  return loss_rows::weighted_mean(B, C, w, [&](int64_t r, double scale) {
    const float* pr = p + r * C;
    const int32_t t = labels[r];
    double sum = 0.0;
    for (int64_t j = 0; j < C; ++j) sum += pr[j];
    const double q = pr[t] / sum;
    if (dp) {
      auto g = [&](int64_t j) { return j != t || is_clipped(q) ? 0.0 : -1.0 / q; };
      renormalization_backward(dp + r * C, pr, sum, g, C, scale);
    }
    return -std::log(clip_probability(q));
  });
}

double binary_crossentropy(float* dp, const float* p, const float* y, int64_t B, int64_t C, const float* w) {
  return loss_rows::entrywise(dp, p, y, w, B, C, true, [](double v, double t) {
    const double q = clip_probability(v);
    const double loss = -(t * std::log(q) + (1.0 - t) * std::log(1.0 - q));
    return std::make_pair(loss, is_clipped(v) ? 0.0 : -t / q + (1.0 - t) / (1.0 - q));
  });
}

double sigmoid_binary_crossentropy(float* dz, const float* z, const float* y, int64_t B,
                                   int64_t C, const float* w) {
  return loss_rows::entrywise(dz, z, y, w, B, C, true, [](double v, double t) {
    const double e = std::exp(-std::abs(v));  // σ(v) in the stable split form
    const double sigmoid = v >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
    return std::make_pair(std::max(v, 0.0) - v * t + std::log1p(e), sigmoid - t);
  });
}

double mean_squared_error(float* dp, const float* p, const float* y, int64_t B, int64_t C, const float* w) {
  return loss_rows::entrywise(dp, p, y, w, B, C, true, [](double v, double t) {
    return std::make_pair((v - t) * (v - t), 2.0 * (v - t));
  });
}

double mean_absolute_error(float* dp, const float* p, const float* y, int64_t B, int64_t C, const float* w) {
  return loss_rows::entrywise(dp, p, y, w, B, C, true, [](double v, double t) {
    return std::make_pair(std::abs(v - t), v > t ? 1.0 : v < t ? -1.0 : 0.0);
  });
}

}  // namespace fastdnn
