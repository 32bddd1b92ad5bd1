// LayerNormalization over the features of each row: the same in training and inference.
#include "engine/op.h"
#include "kernels/layernorm.h"

namespace fastdnn {

namespace {

class LayerNormOp : public Op {
 public:
  using Op::Op;

  void declare(ParamStore& store, int op) override {
    const int64_t C = in_width;
    ParamInfo gamma{"gamma", op, C, 0, spec.trainable, spec.gamma_regularizer, 1.0f};
    ParamInfo beta{"beta", op, C, 0, spec.trainable, spec.beta_regularizer, 0.0f};
    gamma.constraint = spec.gamma_constraint;
    beta.constraint = spec.beta_constraint;
    if (spec.scale || spec.rms_scaling) gamma_id_ = store.add(gamma);
    if (spec.center && !spec.rms_scaling) beta_id_ = store.add(beta);
  }
  void bind(ParamStore& store) override {
    if (gamma_id_ >= 0) {
      gamma_ = store.value(gamma_id_);
      dgamma_ = store.grad(gamma_id_);
    }
    if (beta_id_ >= 0) {
      beta_ = store.value(beta_id_);
      dbeta_ = store.grad(beta_id_);
    }
  }
  void reserve(int64_t rows) override {
    xhat_.reserve(rows * in_width);
    mean_.reserve(rows);
    inv_std_.reserve(rows);
  }
  void forward(Workspace& ws, const Pass& pass) override {
    // Inference keeps no statistics: the workspace has no training scratch then.
    layernorm_forward(ws.out(spec.output), pass.training ? xhat_.data() : nullptr,
                      pass.training ? mean_.data() : nullptr, pass.training ? inv_std_.data() : nullptr,
                      ws.in(spec.input), gamma_, beta_, pass.rows, in_width, float(spec.epsilon),
                      spec.rms_scaling);
  }
  void backward(Workspace& ws, const Pass& pass) override {
    // dγ, dβ are null for a frozen layer (its parameters are not trainable).
    layernorm_backward(ws.grad(spec.input), dgamma_, dbeta_, ws.grad(spec.output), xhat_.data(), mean_.data(),
                       inv_std_.data(), gamma_, pass.rows, in_width, spec.rms_scaling);
  }

 private:
  int gamma_id_ = -1, beta_id_ = -1;
  float *gamma_ = nullptr, *dgamma_ = nullptr, *beta_ = nullptr, *dbeta_ = nullptr;
  AlignedBuffer xhat_, mean_, inv_std_;
};

}  // namespace

std::unique_ptr<Op> make_layernorm(const OpSpec& spec) { return std::make_unique<LayerNormOp>(spec); }

}  // namespace fastdnn
