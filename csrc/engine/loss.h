// A loss head's loss and accuracy metric, and the softmax/sigmoid fusion:
// when the op producing the head's slot applies softmax (sigmoid), the loss is a
// cross-entropy on probabilities and the graph allows it (engine/graph.h), the loss
// reads the logits instead, as Keras' TF backend does.
// The gradient is the same (tests/test_losses.py checks it), without the
// clipping at 1e-7 that stalls a confidently wrong prediction.
#pragma once
#include <cstdint>
#include <vector>

#include "engine/op.h"

namespace fastdnn {

enum class LossKind {
  SparseCategoricalCrossentropy,
  CategoricalCrossentropy,
  BinaryCrossentropy,
  MeanSquaredError,
  MeanAbsoluteError,
  Huber,
  LogCosh,
  KLDivergence,
  Poisson,
  Hinge,
  SquaredHinge,
  MeanAbsolutePercentageError,
  MeanSquaredLogarithmicError,
  CosineSimilarity,
};
enum class MetricKind { None, SparseCategoricalAccuracy, CategoricalAccuracy, BinaryAccuracy };

struct LossSpec {
  LossKind kind = LossKind::SparseCategoricalCrossentropy;
  bool from_logits = false;
  MetricKind metric = MetricKind::None;
  float threshold = 0.5f;  // binary accuracy
  double delta = 1.0;      // Huber
};

// Integer labels (B) for the sparse loss, otherwise dense targets (B, width);
// and a weight per row (Keras' sample_weight), null when there are none.
struct Targets {
  const int32_t* labels = nullptr;
  const float* values = nullptr;
  int64_t width = 0;
  const float* weights = nullptr;
  Targets rows_from(int64_t r) const {
    return {labels ? labels + r : nullptr, values ? values + r * width : nullptr, width,
            weights ? weights + r : nullptr};
  }
};

// Accuracy over a batch: the hits, and Σ_r w_r·hit_r when y has weights
// (Keras' weighted_metrics; the caller divides by Σw).
struct Hits {
  double count = 0.0;
  double weighted = 0.0;
};

class NetworkLoss {
 public:
  // The loss on `slot`, written by `producer` (null: an input slot); `fusable`: the
  // graph lets the loss absorb the producer (no other reader of either slot).
  NetworkLoss(const LossSpec& spec, int slot, const Op* producer, bool fusable);

  // Mean loss over the batch (Σ w·L / rows with weights); writes its gradient
  // with respect to slot grad_slot() into `grad` unless null.
  double compute(Workspace& ws, const Targets& y, int64_t rows, float* grad) const;
  // Accuracy hits of the network's output against y (and weighted, when y has weights).
  Hits hits(const float* output, const Targets& y, int64_t rows, int64_t width) const;

  int grad_slot() const { return grad_slot_; }
  bool fused() const { return fused_; }  // the producer's backward is part of the loss
  const LossSpec& spec() const { return spec_; }

 private:
  double count_hits(const float* output, const Targets& y, int64_t rows, int64_t width) const;

  LossSpec spec_;
  bool fused_ = false;
  int grad_slot_ = 0;
};

}  // namespace fastdnn
