// Keras' merging layers (Concatenate, Add, Subtract, Multiply, Average, Maximum,
// Minimum) over the op's input slots, and Identity (a model output that is a model input).
#include <cstring>

#include "engine/op.h"
#include "kernels/dropout.h"
#include "kernels/merge.h"

namespace fastdnn {

namespace {

class MergeOp : public Op {
 public:
  using Op::Op;
  int64_t merged_width(const std::vector<int64_t>& widths) const override {
    if (spec.kind != OpKind::Concatenate) return widths[0];  // equal widths (engine/graph.cpp checks)
    int64_t total = 0;
    for (int64_t w : widths) total += w;
    return total;
  }
  bool accumulates_itself() const override { return true; }

  void forward(Workspace& ws, const Pass& pass) override {
    const int inputs = int(spec.inputs.size());
    x_.resize(spec.inputs.size());
    for (int k = 0; k < inputs; ++k) x_[size_t(k)] = ws.in(spec.inputs[size_t(k)]);
    float* y = ws.out(spec.output);
    const int64_t n = pass.rows * out_width;
    switch (spec.kind) {
      case OpKind::Concatenate:
        concatenate_forward(y, x_.data(), in_widths.data(), inputs, pass.rows, spec.blocks);
        break;
      case OpKind::Add: merge_sum_forward(y, x_.data(), inputs, n, 1.0f); break;
      case OpKind::Average: merge_sum_forward(y, x_.data(), inputs, n, float(inputs)); break;
      case OpKind::Subtract: merge_subtract_forward(y, x_[0], x_[1], n); break;
      case OpKind::Multiply: merge_multiply_forward(y, x_.data(), inputs, n); break;
      case OpKind::Maximum:
      case OpKind::Minimum: merge_extreme_forward(y, x_.data(), inputs, n, spec.kind == OpKind::Maximum); break;
      default: break;
    }
  }
  void backward(Workspace& ws, const Pass& pass) override {
    const int inputs = int(spec.inputs.size());
    dx_.resize(spec.inputs.size());
    for (int k = 0; k < inputs; ++k) {
      x_[size_t(k)] = ws.in(spec.inputs[size_t(k)]);
      dx_[size_t(k)] = ws.grad(spec.inputs[size_t(k)]);
    }
    const float* dy = ws.grad(spec.output);
    const bool* add = accumulate.get();
    const int64_t n = pass.rows * out_width;
    switch (spec.kind) {
      case OpKind::Concatenate:
        concatenate_backward(dx_.data(), add, dy, in_widths.data(), inputs, pass.rows, spec.blocks);
        break;
      case OpKind::Add: merge_sum_backward(dx_.data(), add, dy, inputs, n, 1.0f); break;
      case OpKind::Average: merge_sum_backward(dx_.data(), add, dy, inputs, n, float(inputs)); break;
      case OpKind::Subtract: merge_subtract_backward(dx_.data(), add, dy, n); break;
      case OpKind::Multiply: merge_multiply_backward(dx_.data(), add, dy, x_.data(), inputs, n); break;
      case OpKind::Maximum:
      case OpKind::Minimum:
        merge_extreme_backward(dx_.data(), add, dy, x_.data(), inputs, n, spec.kind == OpKind::Maximum);
        break;
      default: break;
    }
  }

 private:
  std::vector<const float*> x_;
  std::vector<float*> dx_;
};

class IdentityOp : public Op {
 public:
  using Op::Op;
  void forward(Workspace& ws, const Pass& pass) override {
    std::memcpy(ws.out(spec.output), ws.in(spec.input), sizeof(float) * size_t(pass.rows * in_width));
  }
  void backward(Workspace& ws, const Pass& pass) override {
    if (float* dx = ws.grad(spec.input)) mask_backward(dx, ws.grad(spec.output), nullptr, pass.rows * in_width);
  }
};

}  // namespace

std::unique_ptr<Op> make_merge(const OpSpec& spec) { return std::make_unique<MergeOp>(spec); }
std::unique_ptr<Op> make_identity(const OpSpec& spec) { return std::make_unique<IdentityOp>(spec); }

}  // namespace fastdnn
