#include "kernels/optimizers.h"

#include <cmath>

#include "kernels/parallel.h"

namespace fastdnn {

void sgd_update(float* w, const float* g, float* m, int64_t n, float lr, float momentum,
                bool nesterov) {
  parallel_elementwise(n, [&](int64_t begin, int64_t end) {
    if (m == nullptr) {
      for (int64_t i = begin; i < end; ++i) w[i] -= lr * g[i];
      return;
    }
    for (int64_t i = begin; i < end; ++i) {
      m[i] = momentum * m[i] - lr * g[i];
      w[i] += nesterov ? momentum * m[i] - lr * g[i] : m[i];
    }
  });
}

void adam_update(float* w, const float* g, float* m, float* v, float* v_max, int64_t n,
                 float lr, float beta_1, float beta_2, float epsilon, int64_t t) {
  const float alpha = float(lr * std::sqrt(1.0 - std::pow(double(beta_2), double(t))) /
                            (1.0 - std::pow(double(beta_1), double(t))));
  parallel_elementwise(n, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      m[i] += (g[i] - m[i]) * (1.0f - beta_1);
      v[i] += (g[i] * g[i] - v[i]) * (1.0f - beta_2);
      float second = v[i];
      if (v_max) second = v_max[i] = std::max(v_max[i], v[i]);
      w[i] -= alpha * m[i] / (std::sqrt(second) + epsilon);
    }
  });
}

void rmsprop_update(float* w, const float* g, float* v, float* m, float* g_avg, int64_t n,
                    float lr, float rho, float momentum, float epsilon) {
  parallel_elementwise(n, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      v[i] = rho * v[i] + (1.0f - rho) * g[i] * g[i];
      float denominator = v[i] + epsilon;
      if (g_avg) {
        g_avg[i] = rho * g_avg[i] + (1.0f - rho) * g[i];
        denominator = v[i] - g_avg[i] * g_avg[i] + epsilon;
      }
      const float increment = lr * g[i] / std::sqrt(denominator);
      if (m) {
        m[i] = momentum * m[i] + increment;
        w[i] -= m[i];
      } else {
        w[i] -= increment;
      }
    }
  });
}

void adagrad_update(float* w, const float* g, float* accumulator, int64_t n, float lr,
                    float epsilon) {
  parallel_elementwise(n, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      accumulator[i] += g[i] * g[i];
      w[i] -= lr * g[i] / std::sqrt(accumulator[i] + epsilon);
    }
  });
}

void adadelta_update(float* w, const float* g, float* mean_square_grad,
                     float* mean_square_delta, int64_t n, float lr, float rho, float epsilon) {
  parallel_elementwise(n, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      mean_square_grad[i] = rho * mean_square_grad[i] + (1.0f - rho) * g[i] * g[i];
      const float delta = -std::sqrt(mean_square_delta[i] + epsilon) * g[i] /
                          std::sqrt(mean_square_grad[i] + epsilon);
      mean_square_delta[i] = rho * mean_square_delta[i] + (1.0f - rho) * delta * delta;
      w[i] += lr * delta;
    }
  });
}

void adamax_update(float* w, const float* g, float* m, float* u, int64_t n, float lr,
                   float beta_1, float beta_2, float epsilon, int64_t t) {
  const float correction = float(1.0 - std::pow(double(beta_1), double(t)));
  parallel_elementwise(n, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      m[i] += (g[i] - m[i]) * (1.0f - beta_1);
      u[i] = std::max(beta_2 * u[i], std::abs(g[i]));
      w[i] -= lr * m[i] / (correction * (u[i] + epsilon));
    }
  });
}

namespace {
double nadam_momentum(float beta_1, int64_t t) {
  return double(beta_1) * (1.0 - 0.5 * std::pow(0.96, double(t)));
}
}  // namespace

double nadam_advance_u_product(double u_product, float beta_1, int64_t t) {
  return u_product * nadam_momentum(beta_1, t);
}

void nadam_update(float* w, const float* g, float* m, float* v, int64_t n, float lr,
                  float beta_1, float beta_2, float epsilon, int64_t t, double u_product) {
  const double u_t = nadam_momentum(beta_1, t), u_next = nadam_momentum(beta_1, t + 1);
  const float m_coef = float(u_next / (1.0 - u_product * u_next));
  const float g_coef = float((1.0 - u_t) / (1.0 - u_product));
  const float v_coef = float(1.0 / (1.0 - std::pow(double(beta_2), double(t))));
  parallel_elementwise(n, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      m[i] += (g[i] - m[i]) * (1.0f - beta_1);
      v[i] += (g[i] * g[i] - v[i]) * (1.0f - beta_2);
      const float m_hat = m_coef * m[i] + g_coef * g[i];
      w[i] -= lr * m_hat / (std::sqrt(v[i] * v_coef) + epsilon);
    }
  });
}

}  // namespace fastdnn
