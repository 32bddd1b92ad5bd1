// Rescaling: y = x·scale + offset, with one scale and offset per feature.
#include <stdexcept>
#include <string>

#include "engine/op.h"
#include "kernels/preprocessing.h"

namespace fastdnn {

namespace {

class RescalingOp : public Op {
 public:
  using Op::Op;
  int64_t output_width(int64_t input_width) const override {
    if (int64_t(spec.multiplier.size()) != input_width || int64_t(spec.offset.size()) != input_width) {
      throw std::invalid_argument("rescaling: scale and offset need one value per feature (" +
                                  std::to_string(input_width) + "); got " +
                                  std::to_string(spec.multiplier.size()) + " and " +
                                  std::to_string(spec.offset.size()));
    }
    return input_width;
  }
  void forward(Workspace& ws, const Pass& pass) override {
    rescaling_forward(ws.out(spec.output), ws.in(spec.input), spec.multiplier.data(), spec.offset.data(),
                      pass.rows, in_width);
  }
  void backward(Workspace& ws, const Pass& pass) override {
    if (!ws.grad(spec.input)) return;
    rescaling_backward(ws.grad(spec.input), ws.grad(spec.output), spec.multiplier.data(), pass.rows, in_width);
  }
};

}  // namespace

std::unique_ptr<Op> make_rescaling(const OpSpec& spec) { return std::make_unique<RescalingOp>(spec); }

}  // namespace fastdnn
