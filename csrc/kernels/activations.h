// The activation family, forward and backward, over row-major (rows, cols) buffers.
// Formulas and constants follow Keras 3 (keras/src/activations/activations.py).
#pragma once
#include <cstdint>
#include <limits>

namespace fastdnn {

enum class Activation {
  Linear,       // y = x
  ReLU,         // y = x > t ? min(x, max_value) : negative_slope·(x − t)   (leaky_relu, relu6)
  ELU,          // y = x > 0 ? x : α·(eˣ − 1)
  SELU,         // y = λ·elu(x, α), λ = 1.0507009873554805, α = 1.6732632423543772
  Sigmoid,      // y = 1/(1 + e⁻ˣ)
  Tanh,         // y = tanh x
  Softmax,      // y = e^(x − max)/Σ e^(x − max), along each row
  Softplus,     // y = log(1 + eˣ)
  Softsign,     // y = x/(1 + |x|)
  Swish,        // y = x·sigmoid(x)                                      (silu)
  GELU,         // y = x·Φ(x) = ½x(1 + erf(x/√2))                        (exact)
  GELUTanh,     // y = ½x(1 + tanh(√(2/π)(x + 0.044715x³)))               (approximate)
  HardSigmoid,  // y = clip(x/6 + ½, 0, 1) = relu6(x + 3)/6              (Keras 3)
  HardSwish,    // y = x·hard_sigmoid(x)                                 (hard_silu)
  Exponential,  // y = eˣ
};

struct ActivationParams {
  float alpha = 1.0f;           // ELU's α
  float negative_slope = 0.0f;  // ReLU: slope below the threshold
  float max_value = std::numeric_limits<float>::infinity();  // ReLU: upper clip
  float threshold = 0.0f;       // ReLU: where the identity starts
};

// y = f(x)
void activation_forward(Activation f, const ActivationParams& p, float* y, const float* x,
                        int64_t rows, int64_t cols);

// dx = dy·f′(x); reads x, or the forward output y where f′ is cheaper from it.
void activation_backward(Activation f, const ActivationParams& p, float* dx, const float* dy,
                         const float* x, const float* y, int64_t rows, int64_t cols);

}  // namespace fastdnn
