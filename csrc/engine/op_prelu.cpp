// PReLU: a leaky ReLU whose slope α is learned, one per feature (Keras starts it at 0).
#include "engine/op.h"
#include "kernels/leaky_relu_variants.h"

namespace fastdnn {

namespace {

class PReLUOp : public Op {
 public:
  using Op::Op;
  void declare(ParamStore& store, int op) override {
    ParamInfo alpha{"alpha", op, spec.shared_alpha ? 1 : in_width, 0, spec.trainable, spec.alpha_regularizer};
    alpha.constraint = spec.alpha_constraint;
    alpha_ = store.add(alpha);
  }
  void bind(ParamStore& store) override {
    alpha = store.value(alpha_);
    dalpha = store.grad(alpha_);
    if (!dalpha) {  // frozen: the gradient is computed and dropped
      scratch_.reserve(spec.shared_alpha ? 1 : in_width);
      dalpha = scratch_.data();
    }
  }
  void forward(Workspace& ws, const Pass& pass) override {
    prelu_forward(ws.out(spec.output), ws.in(spec.input), alpha, alpha_size(), pass.rows, in_width);
  }
  void backward(Workspace& ws, const Pass& pass) override {
    prelu_backward(ws.grad(spec.input), dalpha, ws.grad(spec.output), ws.in(spec.input), alpha,
                   alpha_size(), pass.rows, in_width);
  }

 private:
  int64_t alpha_size() const { return spec.shared_alpha ? 1 : in_width; }
  int alpha_ = -1;
  float *alpha = nullptr, *dalpha = nullptr;
  AlignedBuffer scratch_;
};

}  // namespace

std::unique_ptr<Op> make_prelu(const OpSpec& spec) { return std::make_unique<PReLUOp>(spec); }

}  // namespace fastdnn
