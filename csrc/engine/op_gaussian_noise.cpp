// GaussianNoise (additive) and GaussianDropout (multiplicative): random in training,
// the identity otherwise. Keyed like Dropout: the op's seed and the optimizer's step.
#include <cstring>

#include "engine/op.h"
#include "kernels/dropout.h"
#include "kernels/noise.h"

namespace fastdnn {

namespace {

class GaussianNoiseOp : public Op {
 public:
  using Op::Op;
  void reserve(int64_t rows) override {
    if (spec.kind == OpKind::GaussianDropout) mask_.reserve(rows * in_width);
  }
  void forward(Workspace& ws, const Pass& pass) override {
    const int64_t n = pass.rows * in_width;
    const bool additive = spec.kind == OpKind::GaussianNoise;
    active_ = pass.training && (additive ? spec.stddev > 0.0 : spec.rate > 0.0);
    if (!active_) {
      std::memcpy(ws.out(spec.output), ws.in(spec.input), sizeof(float) * size_t(n));
    } else if (additive) {
      gaussian_noise_forward(ws.out(spec.output), ws.in(spec.input), n, spec.stddev, spec.seed, pass.step,
                             pass.element_offset(in_width));
    } else {
      gaussian_dropout_forward(ws.out(spec.output), mask_.data(), ws.in(spec.input), n, spec.rate, spec.seed,
                               pass.step, pass.element_offset(in_width));
    }
  }
  void backward(Workspace& ws, const Pass& pass) override {
    float* dx = ws.grad(spec.input);
    if (!dx) return;
    // Additive noise passes the gradient through unchanged; multiplicative noise scales it by its mask.
    const bool scaled = active_ && spec.kind == OpKind::GaussianDropout;
    mask_backward(dx, ws.grad(spec.output), scaled ? mask_.data() : nullptr, pass.rows * in_width);
  }

 private:
  AlignedBuffer mask_;
  bool active_ = false;
};

}  // namespace

std::unique_ptr<Op> make_gaussian_noise(const OpSpec& spec) { return std::make_unique<GaussianNoiseOp>(spec); }

}  // namespace fastdnn
