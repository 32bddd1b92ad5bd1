// A fixed activation function (Keras' Activation layer, or a layer's `activation=`).
#include "engine/op.h"
#include "kernels/activations.h"

namespace fastdnn {

namespace {

class ActivationOp : public Op {
 public:
  using Op::Op;
  void forward(Workspace& ws, const Pass& pass) override {
    activation_forward(spec.activation, spec.activation_params, ws.out(spec.output),
                       ws.in(spec.input), pass.rows, in_width);
  }
  void backward(Workspace& ws, const Pass& pass) override {
    if (!ws.grad(spec.input)) return;
    activation_backward(spec.activation, spec.activation_params, ws.grad(spec.input),
                        ws.grad(spec.output), ws.in(spec.input), ws.out(spec.output), pass.rows,
                        in_width);
  }
};

}  // namespace

std::unique_ptr<Op> make_activation(const OpSpec& spec) { return std::make_unique<ActivationOp>(spec); }

}  // namespace fastdnn
