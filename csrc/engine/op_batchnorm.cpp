// BatchNormalization over the features. Training uses the batch statistics and
// moves the moving ones; inference (and a frozen layer, as in Keras) uses the
// moving statistics.
#include "engine/op.h"
#include "kernels/batchnorm.h"

namespace fastdnn {

namespace {

class BatchNormOp : public Op {
 public:
  using Op::Op;

  void declare(ParamStore& store, int op) override {
    const int64_t C = in_width;
    ParamInfo gamma{"gamma", op, C, 0, spec.trainable, {}, 1.0f}, beta{"beta", op, C, 0, spec.trainable, {}, 0.0f};
    gamma.constraint = spec.gamma_constraint;
    beta.constraint = spec.beta_constraint;
    if (spec.scale) gamma_ = store.add(gamma);
    if (spec.center) beta_ = store.add(beta);
    moving_mean_ = store.add({"moving_mean", op, C, 0, false, {}, 0.0f});
    moving_var_ = store.add({"moving_variance", op, C, 0, false, {}, 1.0f});
    for (AlignedBuffer* b : {&mean_, &var_, &inv_std_, &sum_dy_, &sum_dy_xhat_, &scale_, &shift_}) {
      b->reserve(C);
    }
  }
  void bind(ParamStore& store) override {
    if (gamma_ >= 0) {
      gamma = store.value(gamma_);
      dgamma = store.grad(gamma_);
    }
    if (beta_ >= 0) {
      beta = store.value(beta_);
      dbeta = store.grad(beta_);
    }
    moving_mean = store.value(moving_mean_);
    moving_var = store.value(moving_var_);
  }
  void reserve(int64_t rows) override { xhat_.reserve(rows * in_width); }

  void forward(Workspace& ws, const Pass& pass) override {
    const int64_t B = pass.rows, C = in_width;
    batch_stats_ = pass.training && spec.trainable;
    if (batch_stats_) {
      batchnorm_forward_train(ws.out(spec.output), xhat_.data(), mean_.data(), var_.data(),
                              inv_std_.data(), ws.in(spec.input), gamma, beta, B, C, float(spec.epsilon));
      if (pass.update_moving_stats) {
        batchnorm_update_moving(moving_mean, moving_var, mean_.data(), var_.data(), C, spec.momentum);
      }
    } else {
      batchnorm_inference_coefficients(scale_.data(), shift_.data(), gamma, beta, moving_mean,
                                       moving_var, C, float(spec.epsilon));
      batchnorm_forward_infer(ws.out(spec.output), ws.in(spec.input), scale_.data(), shift_.data(), B, C);
    }
  }
  void backward(Workspace& ws, const Pass& pass) override {
    const int64_t B = pass.rows, C = in_width;
    if (!batch_stats_) {  // frozen: the layer is an affine map
      if (ws.grad(spec.input)) batchnorm_backward_infer(ws.grad(spec.input), ws.grad(spec.output), scale_.data(), B, C);
      return;
    }
    // dγ, dβ feed dx even when γ, β are not parameters: then they land in scratch.
    batchnorm_backward(ws.grad(spec.input), dgamma ? dgamma : sum_dy_xhat_.data(),
                       dbeta ? dbeta : sum_dy_.data(), ws.grad(spec.output), xhat_.data(),
                       inv_std_.data(), gamma, B, C);
  }

 private:
  int gamma_ = -1, beta_ = -1, moving_mean_ = -1, moving_var_ = -1;
  float *gamma = nullptr, *dgamma = nullptr, *beta = nullptr, *dbeta = nullptr;
  float *moving_mean = nullptr, *moving_var = nullptr;
  AlignedBuffer xhat_, mean_, var_, inv_std_, sum_dy_, sum_dy_xhat_, scale_, shift_;
  bool batch_stats_ = false;  // how the last forward ran
};

}  // namespace

std::unique_ptr<Op> make_batchnorm(const OpSpec& spec) { return std::make_unique<BatchNormOp>(spec); }

}  // namespace fastdnn
