// An op of the network: one layer's forward and backward over the workspace.
// Ops address tensors by slot number; slot 0 is the network's input, and op i
// of a sequential network reads slot i and writes slot i + 1.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/buffer.h"
#include "engine/params.h"
#include "kernels/activations.h"

namespace fastdnn {

enum class OpKind {
  Dense, BatchNorm, Activation, PReLU, RReLU, Dropout, AlphaDropout,
  Normalization, Rescaling, GaussianNoise, GaussianDropout, ActivityRegularization, LayerNorm,
};
constexpr int kOpKinds = int(OpKind::LayerNorm) + 1;

// What Python describes; every field has Keras' default.
struct OpSpec {
  OpKind kind = OpKind::Dense;
  int input = -1, output = -1;  // slots; -1: the previous op's output / the next slot
  bool trainable = true;        // false: parameters frozen (BatchNorm also runs in inference mode)
  // Dense
  int64_t units = 0;
  bool use_bias = true;
  Regularizer kernel_regularizer, bias_regularizer;
  Constraint kernel_constraint, bias_constraint;
  // BatchNorm
  double momentum = 0.99, epsilon = 1e-3;
  bool center = true, scale = true;
  Constraint gamma_constraint, beta_constraint;
  // Activation
  Activation activation = Activation::Linear;
  ActivationParams activation_params;
  // PReLU: one α per feature, or one for all
  bool shared_alpha = false;
  Regularizer alpha_regularizer;
  Constraint alpha_constraint;
  // RReLU
  double lower = 1.0 / 8.0, upper = 1.0 / 3.0;
  // Dropout, AlphaDropout (rate in [0, 1)); RReLU and both dropouts draw from `seed`
  double rate = 0.0;
  uint64_t seed = 0;
  // Normalization (epsilon is Keras' backend epsilon): mean and variance given as
  // constants, one per feature; empty: the layer's adapted weights, one per feature or, with
  // shared_statistics (Keras' axis=None), one mean and one variance for every value
  bool invert = false, shared_statistics = false;
  std::vector<float> mean, variance;
  // Rescaling: y = x·multiplier + offset, one value per feature
  std::vector<float> multiplier, offset;
  // GaussianNoise (GaussianDropout uses rate)
  double stddev = 0.0;
  // ActivityRegularization
  double l1 = 0.0, l2 = 0.0;
  // LayerNorm (with epsilon, center, scale and the gamma/beta constraints above; Keras' deprecated rms_scaling)
  bool rms_scaling = false;
  Regularizer gamma_regularizer, beta_regularizer;
};

// Values and gradients of every slot for one batch of `rows` rows.
class Workspace {
 public:
  Workspace(std::vector<int64_t> widths, bool with_grads)
      : widths_(std::move(widths)), values_(widths_.size()), grads_(widths_.size()),
        with_grads_(with_grads) {}
  // Room for `rows` rows in every slot (grows only).
  void reserve(int64_t rows) {
    for (size_t s = 1; s < widths_.size(); ++s) {
      values_[s].reserve(rows * widths_[s]);
      if (with_grads_) grads_[s].reserve(rows * widths_[s]);
    }
  }
  void set_input(const float* x) { input_ = x; }  // slot 0 is the caller's batch, not copied
  const float* in(int slot) const { return slot == 0 ? input_ : values_[slot].data(); }
  float* out(int slot) { return values_[slot].data(); }
  float* grad(int slot) { return slot == 0 || !with_grads_ ? nullptr : grads_[slot].data(); }
  int64_t width(int slot) const { return widths_[slot]; }
  int slots() const { return int(widths_.size()); }

 private:
  std::vector<int64_t> widths_;
  std::vector<AlignedBuffer> values_, grads_;
  const float* input_ = nullptr;
  bool with_grads_;
};

struct Pass {
  int64_t rows = 0;
  bool training = false;             // dropout on, batch statistics
  bool update_moving_stats = false;  // a real step (not a gradient check)
  uint64_t step = 0;                 // the random stream: the optimizer's iteration count
};

class Op {
 public:
  explicit Op(const OpSpec& spec) : spec(spec) {}
  virtual ~Op() = default;

  // Called once, in order, with the input width known.
  virtual int64_t output_width(int64_t input_width) const { return input_width; }
  virtual void declare(ParamStore&, int /*op_index*/) {}
  virtual void bind(ParamStore&) {}
  // Scratch kept from forward to backward, for `rows` rows (grows only).
  virtual void reserve(int64_t /*rows*/) {}

  virtual void forward(Workspace& ws, const Pass& pass) = 0;
  // Reads ws.grad(output); writes ws.grad(input) (null for the network input)
  // and the parameter gradients.
  virtual void backward(Workspace& ws, const Pass& pass) = 0;
  // A penalty the last forward adds to the loss, summed over its rows (the network
  // divides it by the rows, as Keras divides activity regularization by the batch size).
  virtual double loss_penalty() const { return 0.0; }

  OpSpec spec;
  int64_t in_width = 0, out_width = 0;
};

std::unique_ptr<Op> make_op(const OpSpec& spec);

// One op kind per file (op_<kind>.cpp).
std::unique_ptr<Op> make_dense(const OpSpec& spec);
std::unique_ptr<Op> make_batchnorm(const OpSpec& spec);
std::unique_ptr<Op> make_activation(const OpSpec& spec);
std::unique_ptr<Op> make_prelu(const OpSpec& spec);
std::unique_ptr<Op> make_rrelu(const OpSpec& spec);
std::unique_ptr<Op> make_dropout(const OpSpec& spec);  // Dropout and AlphaDropout
std::unique_ptr<Op> make_normalization(const OpSpec& spec);
std::unique_ptr<Op> make_rescaling(const OpSpec& spec);
std::unique_ptr<Op> make_gaussian_noise(const OpSpec& spec);  // GaussianNoise and GaussianDropout
std::unique_ptr<Op> make_activity_regularization(const OpSpec& spec);
std::unique_ptr<Op> make_layernorm(const OpSpec& spec);

}  // namespace fastdnn
