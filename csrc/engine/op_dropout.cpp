// Dropout and AlphaDropout: a random mask in training, the identity otherwise.
#include <cstring>

#include "engine/op.h"
#include "kernels/dropout.h"

namespace fastdnn {

namespace {

class DropoutOp : public Op {
 public:
  using Op::Op;
  void reserve(int64_t rows) override { mask_.reserve(rows * in_width); }
  void forward(Workspace& ws, const Pass& pass) override {
    const int64_t n = pass.rows * in_width;
    active_ = pass.training && spec.rate > 0.0f;
    if (!active_) {
      std::memcpy(ws.out(spec.output), ws.in(spec.input), sizeof(float) * size_t(n));
    } else if (spec.kind == OpKind::AlphaDropout) {
      alpha_dropout_forward(ws.out(spec.output), mask_.data(), ws.in(spec.input), n, spec.rate, spec.seed, pass.step,
                            pass.element_offset(in_width));
    } else {
      dropout_forward(ws.out(spec.output), mask_.data(), ws.in(spec.input), n, spec.rate, spec.seed, pass.step,
                      pass.element_offset(in_width));
    }
  }
  void backward(Workspace& ws, const Pass& pass) override {
    float* dx = ws.grad(spec.input);
    if (!dx) return;
    mask_backward(dx, ws.grad(spec.output), active_ ? mask_.data() : nullptr, pass.rows * in_width);
  }

 private:
  AlignedBuffer mask_;
  bool active_ = false;
};

}  // namespace

std::unique_ptr<Op> make_dropout(const OpSpec& spec) { return std::make_unique<DropoutOp>(spec); }

}  // namespace fastdnn
