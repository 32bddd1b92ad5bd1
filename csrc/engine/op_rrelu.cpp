// RReLU: random negative slopes in training, their mean at inference.
#include "engine/op.h"
#include "kernels/dropout.h"
#include "kernels/leaky_relu_variants.h"

namespace fastdnn {

namespace {

class RReLUOp : public Op {
 public:
  using Op::Op;
  void reserve(int64_t rows) override { multiplier_.reserve(rows * in_width); }
  void forward(Workspace& ws, const Pass& pass) override {
    // Inference runs without training scratch: its multipliers go to the gradient-free
    // output first and are overwritten by y = x·multiplier in place.
    float* multiplier = pass.training ? multiplier_.data() : ws.out(spec.output);
    rrelu_forward(ws.out(spec.output), multiplier, ws.in(spec.input), pass.rows * in_width,
                  float(spec.lower), float(spec.upper), pass.training, spec.seed, pass.step,
                  pass.element_offset(in_width));
  }
  void backward(Workspace& ws, const Pass& pass) override {
    if (!ws.grad(spec.input)) return;
    mask_backward(ws.grad(spec.input), ws.grad(spec.output), multiplier_.data(), pass.rows * in_width);
  }

 private:
  AlignedBuffer multiplier_;
};

}  // namespace

std::unique_ptr<Op> make_rrelu(const OpSpec& spec) { return std::make_unique<RReLUOp>(spec); }

}  // namespace fastdnn
