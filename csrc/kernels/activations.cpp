#include "kernels/activations.h"

#include <Eigen/Core>
#include <unsupported/Eigen/SpecialFunctions>
#include <cmath>

#include "kernels/parallel.h"

namespace fastdnn {

namespace {

// Eigen's array functions (exp, expm1, tanh, erf, logistic) are vectorized:
// they are why these kernels are written as array expressions.
using Array = Eigen::Map<Eigen::ArrayXf>;
using ConstArray = Eigen::Map<const Eigen::ArrayXf>;

constexpr float kSeluAlpha = 1.6732632423543772848170429916717f;
constexpr float kSeluScale = 1.0507009873554804934193349852946f;
constexpr float kSqrtHalf = 0.70710678118654752440f;       // 1/√2
constexpr float kInvSqrt2Pi = 0.39894228040143267794f;     // 1/√(2π)
constexpr float kSqrt2OverPi = 0.79788456080286535588f;    // √(2/π)
constexpr float kGeluCubic = 0.044715f;

void softmax_forward(float* y, const float* x, int64_t rows, int64_t cols) {
  parallel_rows(rows, cols, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      ConstArray xr(x + r * cols, cols);
      Array yr(y + r * cols, cols);
      yr = (xr - xr.maxCoeff()).exp();
      yr /= yr.sum();
    }
  });
}

// dx = y·(dy − Σ dy·y)
void softmax_backward(float* dx, const float* dy, const float* y, int64_t rows, int64_t cols) {
  parallel_rows(rows, cols, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      ConstArray yr(y + r * cols, cols), dyr(dy + r * cols, cols);
      Array(dx + r * cols, cols) = yr * (dyr - (dyr * yr).sum());
    }
  });
}

}  // namespace

void activation_forward(Activation f, const ActivationParams& p, float* y, const float* x,
                        int64_t rows, int64_t cols) {
  if (f == Activation::Softmax) return softmax_forward(y, x, rows, cols);
  const bool has_max = std::isfinite(p.max_value);
  parallel_elementwise(rows * cols, [&](int64_t begin, int64_t end) {
    ConstArray X(x + begin, end - begin);
    Array Y(y + begin, end - begin);
    switch (f) {
      case Activation::Linear: Y = X; break;
      case Activation::ReLU:
        // Keras' relu(x, negative_slope, max_value, threshold), case by case.
        if (has_max) {
          Y = (X > p.threshold).select(X.max(0.0f).min(p.max_value), p.negative_slope * (X - p.threshold));
        } else {
          Y = (X > p.threshold).select(X, p.negative_slope * (X - p.threshold));
        }
        break;
      case Activation::ELU: Y = (X > 0.0f).select(X, p.alpha * X.expm1()); break;
      case Activation::SELU: Y = kSeluScale * (X > 0.0f).select(X, kSeluAlpha * X.expm1()); break;
      case Activation::Sigmoid: Y = X.logistic(); break;
      case Activation::Tanh: Y = X.tanh(); break;
      case Activation::Softplus: Y = X.max(0.0f) + (-X.abs()).exp().log1p(); break;
      case Activation::Softsign: Y = X / (1.0f + X.abs()); break;
      case Activation::Swish: Y = X * X.logistic(); break;
      case Activation::GELU: Y = 0.5f * X * (1.0f + (X * kSqrtHalf).erf()); break;
      case Activation::GELUTanh:
        Y = 0.5f * X * (1.0f + (kSqrt2OverPi * (X + kGeluCubic * X.cube())).tanh());
        break;
      case Activation::HardSigmoid: Y = (X + 3.0f).max(0.0f).min(6.0f) / 6.0f; break;
      case Activation::HardSwish: Y = X * ((X + 3.0f).max(0.0f).min(6.0f) / 6.0f); break;
      case Activation::Exponential: Y = X.exp(); break;
      case Activation::Softmax: break;  // handled above
    }
  });
}

void activation_backward(Activation f, const ActivationParams& p, float* dx, const float* dy,
                         const float* x, const float* y, int64_t rows, int64_t cols) {
  if (f == Activation::Softmax) return softmax_backward(dx, dy, y, rows, cols);
  const bool has_max = std::isfinite(p.max_value);
  parallel_elementwise(rows * cols, [&](int64_t begin, int64_t end) {
    ConstArray X(x + begin, end - begin), Y(y + begin, end - begin), dY(dy + begin, end - begin);
    Array dX(dx + begin, end - begin);
    switch (f) {
      case Activation::Linear: dX = dY; break;
      case Activation::ReLU:
        if (has_max) {
          dX = dY * (X > p.threshold).select((X > 0.0f && X < p.max_value).cast<float>(), p.negative_slope);
        } else {
          dX = dY * (X > p.threshold).select(Eigen::ArrayXf::Ones(end - begin), p.negative_slope);
        }
        break;
      case Activation::ELU: dX = dY * (X > 0.0f).select(1.0f, Y + p.alpha); break;
      case Activation::SELU:
        dX = dY * (X > 0.0f).select(kSeluScale, Y + kSeluScale * kSeluAlpha);
        break;
      case Activation::Sigmoid: dX = dY * Y * (1.0f - Y); break;
      case Activation::Tanh: dX = dY * (1.0f - Y.square()); break;
      case Activation::Softplus: dX = dY * X.logistic(); break;
      case Activation::Softsign: dX = dY / (1.0f + X.abs()).square(); break;
      case Activation::Swish: {
        const Eigen::ArrayXf s = X.logistic();
        dX = dY * (s + X * s * (1.0f - s));
        break;
      }
      case Activation::GELU:  // Φ(x) + x·φ(x)
        dX = dY * (0.5f * (1.0f + (X * kSqrtHalf).erf()) +
                   X * kInvSqrt2Pi * (-0.5f * X.square()).exp());
        break;
      case Activation::GELUTanh: {
        const Eigen::ArrayXf t = (kSqrt2OverPi * (X + kGeluCubic * X.cube())).tanh();
        dX = dY * (0.5f * (1.0f + t) + 0.5f * X * (1.0f - t.square()) * kSqrt2OverPi *
                                           (1.0f + 3.0f * kGeluCubic * X.square()));
        break;
      }
      case Activation::HardSigmoid: dX = dY * (X > -3.0f && X < 3.0f).select(1.0f / 6.0f, 0.0f * X); break;
      case Activation::HardSwish:
        dX = dY * (X < -3.0f).select(0.0f, (X > 3.0f).select(1.0f, X / 3.0f + 0.5f));
        break;
      case Activation::Exponential: dX = dY * Y; break;
      case Activation::Softmax: break;  // handled above
    }
  });
}

}  // namespace fastdnn
