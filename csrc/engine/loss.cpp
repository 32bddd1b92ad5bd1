#include "engine/loss.h"

#include "kernels/losses.h"
#include "kernels/losses_extra.h"
#include "kernels/metrics.h"

namespace fastdnn {

NetworkLoss::NetworkLoss(const LossSpec& spec, int slot, const Op* producer, bool fusable)
    : spec_(spec) {
  const bool crossentropy = spec.kind == LossKind::SparseCategoricalCrossentropy ||
                            spec.kind == LossKind::CategoricalCrossentropy;
  const Activation expected = crossentropy ? Activation::Softmax : Activation::Sigmoid;
  fused_ = fusable && producer && !spec.from_logits && producer->spec.kind == OpKind::Activation &&
           producer->spec.activation == expected &&
           (crossentropy || spec.kind == LossKind::BinaryCrossentropy);
  grad_slot_ = fused_ ? producer->spec.input : slot;
}

double NetworkLoss::compute(Workspace& ws, const Targets& y, int64_t rows, float* grad) const {
  const float* in = ws.in(grad_slot_);
  const int64_t C = ws.width(grad_slot_);
  const bool logits = fused_ || spec_.from_logits;
  const float* t = y.values;
  const float* w = y.weights;
  switch (spec_.kind) {
    case LossKind::SparseCategoricalCrossentropy:
      return logits ? sparse_softmax_crossentropy(grad, in, y.labels, rows, C, w)
                    : sparse_crossentropy(grad, in, y.labels, rows, C, w);
    case LossKind::CategoricalCrossentropy:
      return logits ? softmax_crossentropy(grad, in, t, rows, C, w) : crossentropy(grad, in, t, rows, C, w);
    case LossKind::BinaryCrossentropy:
      return logits ? sigmoid_binary_crossentropy(grad, in, t, rows, C, w)
                    : binary_crossentropy(grad, in, t, rows, C, w);
    case LossKind::MeanSquaredError: return mean_squared_error(grad, in, t, rows, C, w);
    case LossKind::MeanAbsoluteError: return mean_absolute_error(grad, in, t, rows, C, w);
    case LossKind::Huber: return huber(grad, in, t, rows, C, spec_.delta, w);
    case LossKind::LogCosh: return log_cosh(grad, in, t, rows, C, w);
    case LossKind::KLDivergence: return kl_divergence(grad, in, t, rows, C, w);
    case LossKind::Poisson: return poisson(grad, in, t, rows, C, w);
    case LossKind::Hinge: return hinge(grad, in, t, rows, C, w);
    case LossKind::SquaredHinge: return squared_hinge(grad, in, t, rows, C, w);
    case LossKind::MeanAbsolutePercentageError:
      return mean_absolute_percentage_error(grad, in, t, rows, C, w);
    case LossKind::MeanSquaredLogarithmicError:
      return mean_squared_logarithmic_error(grad, in, t, rows, C, w);
    case LossKind::CosineSimilarity: return cosine_similarity(grad, in, t, rows, C, w);
  }
  return 0.0;
}

Hits NetworkLoss::hits(const float* output, const Targets& y, int64_t rows, int64_t width) const {
  Hits h{count_hits(output, y, rows, width), 0.0};
  if (y.weights && spec_.metric != MetricKind::None) {
    // Row by row, only when there are weights: the unweighted count stays one kernel call.
    for (int64_t r = 0; r < rows; ++r) {
      if (y.weights[r] == 0.0f) continue;
      h.weighted += double(y.weights[r]) * count_hits(output + r * width, y.rows_from(r), 1, width);
    }
  }
  return h;
}

double NetworkLoss::count_hits(const float* output, const Targets& y, int64_t rows, int64_t width) const {
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
