// An op of the network: one layer's forward and backward over the workspace.
// Ops address tensors by slot number: slots 0 .. k-1 are the network's k inputs,
// and op i writes slot k + i from slots written before it (a chain: op i reads
// slot k + i - 1). engine/graph.h checks the plan and plans the backward.
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
  Concatenate, Add, Subtract, Multiply, Average, Maximum, Minimum, Identity,
};
constexpr int kOpKinds = int(OpKind::Identity) + 1;
bool is_merge(OpKind kind);  // reads several inputs (Concatenate … Minimum)

// What Python describes; every field has Keras' default.
struct OpSpec {
  OpKind kind = OpKind::Dense;
  std::vector<int> inputs;      // slots read; empty: the previous op's output
  int input = -1, output = -1;  // inputs[0] and the slot written (set by the network)
  int shares = -1;              // >= 0: uses the parameters of that earlier op of the same kind
  bool trainable = true;        // false: parameters frozen (BatchNorm also runs in inference mode)
  int fixed_training = -1;      // 1 (0): always in training (inference) mode, as Keras' call(training=...); -1: the pass's
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
  // Concatenate: each input seen as (rows, blocks, width / blocks), joined along the last axis
  int64_t blocks = 1;
};

// Values and gradients of every slot for one batch of `rows` rows.
class Workspace {
 public:
  Workspace(std::vector<int64_t> widths, int inputs, bool with_grads)
      : widths_(std::move(widths)), values_(widths_.size()), grads_(widths_.size()),
        inputs_(size_t(inputs), nullptr), with_grads_(with_grads) {}
  // Room for `rows` rows in every slot (grows only).
  void reserve(int64_t rows) {
    for (size_t s = inputs_.size(); s < widths_.size(); ++s) {
      values_[s].reserve(rows * widths_[s]);
      if (with_grads_) grads_[s].reserve(rows * widths_[s]);
    }
  }
  // The input slots are the caller's batches, not copied (and have no gradient).
  void set_inputs(const float* const* x) { inputs_.assign(x, x + inputs_.size()); }
  const float* in(int slot) const { return slot < int(inputs_.size()) ? inputs_[slot] : values_[slot].data(); }
  float* out(int slot) { return values_[slot].data(); }
  float* grad(int slot) {
    if (slot == redirected_slot_) return redirected_grad_;
    return slot < int(inputs_.size()) || !with_grads_ ? nullptr : grads_[slot].data();
  }
  // Until the next call, grad(slot) is `to` (slot -1: none): a reader of a slot whose gradient
  // another reader wrote first writes its part there, and the network adds it.
  void redirect_grad(int slot, float* to) {
    redirected_slot_ = slot;
    redirected_grad_ = to;
  }
  int64_t width(int slot) const { return widths_[slot]; }
  int slots() const { return int(widths_.size()); }

 private:
  std::vector<int64_t> widths_;
  std::vector<AlignedBuffer> values_, grads_;
  std::vector<const float*> inputs_;
  bool with_grads_;
  int redirected_slot_ = -1;
  float* redirected_grad_ = nullptr;
};

struct Pass {
  int64_t rows = 0;
  bool training = false;             // dropout on, batch statistics
  bool update_moving_stats = false;  // a real step (not a gradient check)
  uint64_t step = 0;                 // the random stream: the optimizer's iteration count
  // Row 0 is this row of a larger batch (a data-parallel shard): random ops draw for
  // element (r, c) what the whole batch draws for (row_offset + r, c).
  int64_t row_offset = 0;
  uint64_t element_offset(int64_t width) const { return uint64_t(row_offset) * uint64_t(width); }
};

class Op {
 public:
  explicit Op(const OpSpec& spec) : spec(spec) {}
  virtual ~Op() = default;

  // Called once, in order, with the input width known.
  virtual int64_t output_width(int64_t input_width) const { return input_width; }
  // The same for an op with several inputs (a merge op overrides it).
  virtual int64_t merged_width(const std::vector<int64_t>& widths) const { return output_width(widths[0]); }
  // True: backward writes each input's gradient itself, adding where accumulate[k] is set
  // (a merge op); false: the network redirects an accumulated input's gradient to scratch.
  virtual bool accumulates_itself() const { return false; }
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
  int64_t in_width = 0, out_width = 0;  // in_width: in_widths[0]
  std::vector<int64_t> in_widths;       // one per spec.inputs
  // Per input: add to its slot's gradient (another reader wrote it first); set by the network.
  std::unique_ptr<bool[]> accumulate;
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
std::unique_ptr<Op> make_merge(const OpSpec& spec);     // Concatenate … Minimum (op_merge.cpp)
std::unique_ptr<Op> make_identity(const OpSpec& spec);  // (op_merge.cpp)

}  // namespace fastdnn
