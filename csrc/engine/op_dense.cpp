// Dense: y = x·W + b, W (in, out) as Keras stores its kernel.
#include "engine/op.h"
#include "kernels/dense.h"

namespace fastdnn {

namespace {

class DenseOp : public Op {
 public:
  using Op::Op;
  int64_t output_width(int64_t) const override { return spec.units; }

  void declare(ParamStore& store, int op) override {
    ParamInfo kernel{"kernel", op, in_width, out_width, spec.trainable, spec.kernel_regularizer};
    kernel.constraint = spec.kernel_constraint;
    kernel_ = store.add(kernel);
    if (spec.use_bias) {
      ParamInfo bias{"bias", op, out_width, 0, spec.trainable, spec.bias_regularizer};
      bias.constraint = spec.bias_constraint;
      bias_ = store.add(bias);
    }
  }
  void bind(ParamStore& store) override {
    W_ = store.value(kernel_);
    dW_ = store.grad(kernel_);
    if (bias_ >= 0) {
      b_ = store.value(bias_);
      db_ = store.grad(bias_);
    }
  }
  void forward(Workspace& ws, const Pass& pass) override {
    dense_forward(ws.out(spec.output), ws.in(spec.input), W_, b_, pass.rows, in_width, out_width);
  }
  void backward(Workspace& ws, const Pass& pass) override {
    dense_backward(ws.grad(spec.input), dW_, db_, ws.grad(spec.output), ws.in(spec.input), W_,
                   pass.rows, in_width, out_width);
  }

 private:
  int kernel_ = -1, bias_ = -1;
  float *W_ = nullptr, *dW_ = nullptr, *b_ = nullptr, *db_ = nullptr;
};

}  // namespace

std::unique_ptr<Op> make_dense(const OpSpec& spec) { return std::make_unique<DenseOp>(spec); }

}  // namespace fastdnn
