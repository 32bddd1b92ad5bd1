#include "engine/loss.h"

#include "kernels/losses.h"
#include "kernels/metrics.h"

namespace fastdnn {

NetworkLoss::NetworkLoss(const LossSpec& spec, const std::vector<std::unique_ptr<Op>>& ops)
    : spec_(spec) {
  const Op& last = *ops.back();
  const bool crossentropy = spec.kind == LossKind::SparseCategoricalCrossentropy ||
                            spec.kind == LossKind::CategoricalCrossentropy;
  const Activation expected = crossentropy ? Activation::Softmax : Activation::Sigmoid;
  fused_ = !spec.from_logits && last.spec.kind == OpKind::Activation &&
           last.spec.activation == expected &&
           (crossentropy || spec.kind == LossKind::BinaryCrossentropy);
  grad_slot_ = fused_ ? last.spec.input : last.spec.output;
}

double NetworkLoss::compute(Workspace& ws, const Targets& y, int64_t rows, bool with_grad) const {
  const float* in = ws.in(grad_slot_);
  float* grad = with_grad ? ws.grad(grad_slot_) : nullptr;
  const int64_t C = ws.width(grad_slot_);
  const bool logits = fused_ || spec_.from_logits;
  switch (spec_.kind) {
    case LossKind::SparseCategoricalCrossentropy:
      return logits ? sparse_softmax_crossentropy(grad, in, y.labels, rows, C)
                    : sparse_crossentropy(grad, in, y.labels, rows, C);
    case LossKind::CategoricalCrossentropy:
      return logits ? softmax_crossentropy(grad, in, y.values, rows, C)
                    : crossentropy(grad, in, y.values, rows, C);
    case LossKind::BinaryCrossentropy:
      return logits ? sigmoid_binary_crossentropy(grad, in, y.values, rows, C)
                    : binary_crossentropy(grad, in, y.values, rows, C);
    case LossKind::MeanSquaredError: return mean_squared_error(grad, in, y.values, rows, C);
    case LossKind::MeanAbsoluteError: return mean_absolute_error(grad, in, y.values, rows, C);
  }
  return 0.0;
}

double NetworkLoss::hits(const float* output, const Targets& y, int64_t rows, int64_t width) const {
  switch (spec_.metric) {
    case MetricKind::None: return 0.0;
    case MetricKind::SparseCategoricalAccuracy:
      return double(sparse_categorical_hits(output, y.labels, rows, width));
    case MetricKind::CategoricalAccuracy:
      return double(categorical_hits(output, y.values, rows, width));
    case MetricKind::BinaryAccuracy:
      return binary_hits(output, y.values, rows, width, spec_.threshold);
  }
  return 0.0;
}

}  // namespace fastdnn
