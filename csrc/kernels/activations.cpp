#include "kernels/activations.h"

#include <Eigen/Core>
#include <unsupported/Eigen/SpecialFunctions>
#include <algorithm>
#include <cmath>

#include "kernels/parallel.h"

namespace fastdnn {

namespace {

// Eigen's array functions (exp, expm1, tanh, erf) are vectorized, which is why
// these kernels are array expressions. They are applied to fixed blocks of 16
// floats copied into aligned locals, so every element takes the same SIMD path
// whatever its address or its position in the buffer: the same input always
// gives the same bits (Eigen would otherwise peel unaligned heads and tails
// into scalar code that rounds differently).
constexpr int kBlock = 16;
using Block = Eigen::Array<float, kBlock, 1>;

// out[i] = f(a[i], b[i], c[i]) over [0, n); b and c may be null (read as 0).
// Whole blocks are read in place (a fixed-size map: one SIMD path, no peeling);
// a chunk's last partial block goes through a zero-padded copy.
template <class F>
void blockwise(float* out, const float* a, const float* b, const float* c, int64_t n, F f) {
  using Map = Eigen::Map<const Block>;
  parallel_elementwise(n, [&](int64_t begin, int64_t end) {
    int64_t i = begin;
    for (; i + kBlock <= end; i += kBlock) {
      Eigen::Map<Block>(out + i) = f(Map(a + i), b ? Block(Map(b + i)) : Block::Zero(),
                                     c ? Block(Map(c + i)) : Block::Zero());
    }
    if (i < end) {
      const int64_t len = end - i;
      Block A = Block::Zero(), B = Block::Zero(), C = Block::Zero();
      std::copy(a + i, a + end, A.data());
      if (b) std::copy(b + i, b + end, B.data());
      if (c) std::copy(c + i, c + end, C.data());
      const Block R = f(A, B, C);
      std::copy(R.data(), R.data() + len, out + i);
    }
  });
}

// Σ v[0..n) in a fixed order: 16 lanes, then the lanes in order.
float fixed_order_sum(const float* v, int64_t n) {
  Block lanes = Block::Zero();
  for (int64_t i = 0; i < n; i += kBlock) {
    Block chunk = Block::Zero();
    std::copy(v + i, v + std::min<int64_t>(n, i + kBlock), chunk.data());
    lanes += chunk;
  }
  float sum = 0.0f;
  for (int k = 0; k < kBlock; ++k) sum += lanes[k];
  return sum;
}

constexpr float kSeluAlpha = 1.6732632423543772848170429916717f;
constexpr float kSeluScale = 1.0507009873554804934193349852946f;
constexpr float kSqrtHalf = 0.70710678118654752440f;     // 1/√2
constexpr float kInvSqrt2Pi = 0.39894228040143267794f;   // 1/√(2π)
constexpr float kSqrt2OverPi = 0.79788456080286535588f;  // √(2/π)
constexpr float kGeluCubic = 0.044715f;

// The stable split form: e^{−|x|} never overflows, and for x < 0 the result
// e^x/(1 + e^x) keeps its relative accuracy far into the tail.
Block sigmoid(const Block& x) {
  const Block e = (-x.abs()).exp();
  return (x >= 0.0f).select(1.0f / (1.0f + e), e / (1.0f + e));
}

// e^(x − max) / Σ e^(x − max), one row at a time.
void softmax_forward(float* y, const float* x, int64_t rows, int64_t cols) {
  if (cols == 0) return;  // rows of nothing: no maximum to read
  parallel_rows(rows, cols, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* xr = x + r * cols;
      float* yr = y + r * cols;
      const float max = *std::max_element(xr, xr + cols);
      blockwise(yr, xr, nullptr, nullptr, cols, [max](const Block& X, const Block&, const Block&) -> Block {
        return (X - max).exp();
      });
      const float sum = fixed_order_sum(yr, cols);
      for (int64_t j = 0; j < cols; ++j) yr[j] /= sum;
    }
  });
}

// dx = y·(dy − Σ dy·y)
void softmax_backward(float* dx, const float* dy, const float* y, int64_t rows, int64_t cols) {
  parallel_rows(rows, cols, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* yr = y + r * cols;
      const float* dyr = dy + r * cols;
      float* dxr = dx + r * cols;
      for (int64_t j = 0; j < cols; ++j) dxr[j] = dyr[j] * yr[j];
      const float dot = fixed_order_sum(dxr, cols);
      for (int64_t j = 0; j < cols; ++j) dxr[j] = yr[j] * (dyr[j] - dot);
    }
  });
}

// Functions of +, −, ×, ÷, min and max round the same in SIMD and scalar code,
// so they are plain loops: out[i] = f(a[i], b[i], c[i]) on values, which the
// compiler vectorizes (select, not branch). A null b or c reads a instead (f
// ignores it): a conditional load in the loop would keep it scalar.
template <class F>
void exact_elementwise(float* out, const float* a, const float* b, const float* c, int64_t n, F f) {
  if (!b) b = a;
  if (!c) c = a;
  parallel_elementwise(n, [=](int64_t begin, int64_t end) {
#pragma GCC ivdep
    for (int64_t i = begin; i < end; ++i) out[i] = f(a[i], b[i], c[i]);
  });
}

}  // namespace

void activation_forward(Activation f, const ActivationParams& p, float* y, const float* x,
                        int64_t rows, int64_t cols) {
  const int64_t n = rows * cols;
  const float slope = p.negative_slope, t = p.threshold, hi = p.max_value, alpha = p.alpha;
  auto exact = [&](auto g) {  // y = g(x), exact arithmetic
    exact_elementwise(y, x, nullptr, nullptr, n, [g](float v, float, float) { return g(v); });
  };
  auto simd = [&](auto g) {  // y = g(X) on blocks, for the transcendental functions
    blockwise(y, x, nullptr, nullptr, n, [g](const Block& X, const Block&, const Block&) -> Block { return g(X); });
  };
  switch (f) {
    case Activation::Linear: exact([](float v) { return v; }); break;
    case Activation::ReLU:  // Keras' relu(x, negative_slope, max_value, threshold)
      if (std::isfinite(hi)) {
        exact([=](float v) { return v > t ? std::min(std::max(v, 0.0f), hi) : slope * (v - t) + 0.0f; });  // + 0: no -0
      } else {
        exact([=](float v) { return v > t ? v : slope * (v - t) + 0.0f; });
      }
      break;
    // max/min instead of select: Eigen 3.4 evaluates a select's branches one
    // coefficient at a time, which made expm1 scalar (9 ns per element).
    case Activation::ELU: simd([=](const Block& X) -> Block { return X.max(0.0f) + alpha * X.min(0.0f).expm1(); }); break;
    case Activation::SELU:
      simd([](const Block& X) -> Block { return kSeluScale * (X.max(0.0f) + kSeluAlpha * X.min(0.0f).expm1()); });
      break;
    case Activation::Sigmoid: simd([](const Block& X) { return sigmoid(X); }); break;
    case Activation::Tanh: simd([](const Block& X) -> Block { return X.tanh(); }); break;
    case Activation::Softmax: softmax_forward(y, x, rows, cols); break;
    case Activation::Softplus: simd([](const Block& X) -> Block { return X.max(0.0f) + (-X.abs()).exp().log1p(); }); break;
    case Activation::Softsign: exact([](float v) { return v / (1.0f + std::abs(v)); }); break;
    case Activation::Swish: simd([](const Block& X) -> Block { return X * sigmoid(X); }); break;
    case Activation::GELU: simd([](const Block& X) -> Block { return 0.5f * X * (1.0f + (X * kSqrtHalf).erf()); }); break;
    case Activation::GELUTanh:
      simd([](const Block& X) -> Block { return 0.5f * X * (1.0f + (kSqrt2OverPi * (X + kGeluCubic * X.cube())).tanh()); });
      break;
    case Activation::HardSigmoid: exact([](float v) { return std::min(std::max(v + 3.0f, 0.0f), 6.0f) / 6.0f; }); break;
    case Activation::HardSwish: exact([](float v) { return v * (std::min(std::max(v + 3.0f, 0.0f), 6.0f) / 6.0f); }); break;
    case Activation::Exponential: simd([](const Block& X) -> Block { return X.exp(); }); break;
  }
}

void activation_backward(Activation f, const ActivationParams& p, float* dx, const float* dy,
                         const float* x, const float* y, int64_t rows, int64_t cols) {
  const int64_t n = rows * cols;
  const float slope = p.negative_slope, t = p.threshold, hi = p.max_value, alpha = p.alpha;
  auto exact = [&](auto g) {  // dx = g(x, y, dy), exact arithmetic
    exact_elementwise(dx, x, y, dy, n, g);
  };
  auto simd = [&](auto g) {  // dx = g(X, dY) on blocks, for the transcendental functions
    blockwise(dx, x, dy, nullptr, n, [g](const Block& X, const Block& dY, const Block&) -> Block { return g(X, dY); });
  };
  switch (f) {
    case Activation::Linear: exact([](float, float, float g) { return g; }); break;
    case Activation::ReLU:
      if (std::isfinite(hi)) {
        exact([=](float v, float, float g) { return v > t ? (v > 0.0f && v < hi ? g : 0.0f) : slope * g; });
      } else {
        exact([=](float v, float, float g) { return v > t ? g : slope * g; });
      }
      break;
    case Activation::ELU:  // as arithmetic on the comparison: GCC left the select form scalar
      exact([alpha](float v, float out, float g) {
        const float positive = float(v > 0.0f);
        return g * (positive + (1.0f - positive) * (out + alpha));
      });
      break;
    case Activation::SELU:
      exact([](float v, float out, float g) { return v > 0.0f ? g * kSeluScale : g * (out + kSeluScale * kSeluAlpha); });
      break;
    case Activation::Sigmoid: exact([](float, float out, float g) { return g * out * (1.0f - out); }); break;
    case Activation::Tanh: exact([](float, float out, float g) { return g * (1.0f - out * out); }); break;
    case Activation::Softmax: softmax_backward(dx, dy, y, rows, cols); break;
    case Activation::Softplus: simd([](const Block& X, const Block& dY) -> Block { return dY * sigmoid(X); }); break;
    case Activation::Softsign:
      exact([](float v, float, float g) { return g / ((1.0f + std::abs(v)) * (1.0f + std::abs(v))); });
      break;
    case Activation::Swish:
      simd([](const Block& X, const Block& dY) -> Block {
        const Block s = sigmoid(X);
        return dY * (s + X * s * (1.0f - s));
      });
      break;
    case Activation::GELU:  // Φ(x) + x·φ(x)
      simd([](const Block& X, const Block& dY) -> Block {
        return dY * (0.5f * (1.0f + (X * kSqrtHalf).erf()) + X * kInvSqrt2Pi * (-0.5f * X.square()).exp());
      });
      break;
    case Activation::GELUTanh:
      simd([](const Block& X, const Block& dY) -> Block {
        const Block th = (kSqrt2OverPi * (X + kGeluCubic * X.cube())).tanh();
        return dY * (0.5f * (1.0f + th) +
                     0.5f * X * (1.0f - th.square()) * kSqrt2OverPi * (1.0f + 3.0f * kGeluCubic * X.square()));
      });
      break;
    case Activation::HardSigmoid: exact([](float v, float, float g) { return v > -3.0f && v < 3.0f ? g / 6.0f : 0.0f; }); break;
    case Activation::HardSwish:  // at the kinks ±3, the gradient TensorFlow's relu6 gives: 0 and 1
      exact([](float v, float, float g) { return v <= -3.0f ? 0.0f : v >= 3.0f ? g : g * (v / 3.0f + 0.5f); });
      break;
    case Activation::Exponential: exact([](float, float out, float g) { return g * out; }); break;
  }
}

}  // namespace fastdnn
