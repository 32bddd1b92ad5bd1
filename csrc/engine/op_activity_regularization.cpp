// ActivityRegularization: passes its input through and adds l1·Σ|x| + l2·Σx² to the
// loss, divided by the batch size as Keras 3 does (in training and in evaluate).
#include <cstring>

#include "engine/op.h"
#include "kernels/activity_regularization.h"

namespace fastdnn {

namespace {

class ActivityRegularizationOp : public Op {
 public:
  using Op::Op;
  void forward(Workspace& ws, const Pass& pass) override {
    const int64_t n = pass.rows * in_width;
    std::memcpy(ws.out(spec.output), ws.in(spec.input), sizeof(float) * size_t(n));
    penalty_ = activity_penalty(ws.in(spec.input), n, spec.l1, spec.l2);
  }
  void backward(Workspace& ws, const Pass& pass) override {
    if (!ws.grad(spec.input)) return;
    activity_regularization_backward(ws.grad(spec.input), ws.grad(spec.output), ws.in(spec.input),
                                     pass.rows * in_width, spec.l1, spec.l2, 1.0 / double(pass.rows));
  }
  double loss_penalty() const override { return penalty_; }

 private:
  double penalty_ = 0.0;
};

}  // namespace

std::unique_ptr<Op> make_activity_regularization(const OpSpec& spec) {
  return std::make_unique<ActivityRegularizationOp>(spec);
}

}  // namespace fastdnn
