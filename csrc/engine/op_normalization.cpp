// Normalization (Keras' preprocessing layer): (x − mean)/max(√variance, ε) per feature,
// with mean and variance either constants of the layer or its adapted, non-trainable
// weights (mean, variance, count: Keras' three), one per feature or, shared (Keras'
// axis=None), one of each broadcast to every feature.
#include <algorithm>
#include <stdexcept>
#include <string>

#include "engine/op.h"
#include "kernels/preprocessing.h"

namespace fastdnn {

namespace {

class NormalizationOp : public Op {
 public:
  using Op::Op;

  int64_t output_width(int64_t input_width) const override {
    const bool constants = !spec.mean.empty();
    if (constants && (int64_t(spec.mean.size()) != input_width || int64_t(spec.variance.size()) != input_width)) {
      throw std::invalid_argument("normalization: mean and variance need one value per feature (" +
                                  std::to_string(input_width) + "); got " + std::to_string(spec.mean.size()) +
                                  " and " + std::to_string(spec.variance.size()));
    }
    return input_width;
  }
  void declare(ParamStore& store, int op) override {
    denominator_.reserve(in_width);
    if (!spec.mean.empty()) return;
    const int64_t statistics = spec.shared_statistics ? 1 : in_width;
    if (spec.shared_statistics) {
      shared_mean_.reserve(in_width);
      shared_variance_.reserve(in_width);
    }
    mean_id_ = store.add({"mean", op, statistics, 0, false, {}, 0.0f});
    variance_id_ = store.add({"variance", op, statistics, 0, false, {}, 1.0f});
    store.add({"count", op, 1, 0, false, {}, 0.0f});  // Keras keeps it at 0 when adapting NumPy data
  }
  void bind(ParamStore& store) override {
    if (mean_id_ >= 0) {
      mean_ = store.value(mean_id_);
      variance_ = store.value(variance_id_);
    } else {
      mean_ = spec.mean.data();
      variance_ = spec.variance.data();
    }
  }
  void forward(Workspace& ws, const Pass& pass) override {
    // The statistics may have been assigned since the last batch (adapt, set_weights).
    const float *mean = mean_, *variance = variance_;
    if (spec.shared_statistics) {  // the per-feature kernels take the one value as a vector
      std::fill(shared_mean_.data(), shared_mean_.data() + in_width, mean_[0]);
      std::fill(shared_variance_.data(), shared_variance_.data() + in_width, variance_[0]);
      mean = shared_mean_.data();
      variance = shared_variance_.data();
    }
    normalization_denominators(denominator_.data(), variance, in_width, float(spec.epsilon));
    normalization_forward(ws.out(spec.output), ws.in(spec.input), mean, denominator_.data(), pass.rows,
                          in_width, spec.invert);
  }
  void backward(Workspace& ws, const Pass& pass) override {
    if (!ws.grad(spec.input)) return;
    normalization_backward(ws.grad(spec.input), ws.grad(spec.output), denominator_.data(), pass.rows,
                           in_width, spec.invert);
  }

 private:
  int mean_id_ = -1, variance_id_ = -1;
  const float *mean_ = nullptr, *variance_ = nullptr;
  AlignedBuffer denominator_, shared_mean_, shared_variance_;
};

}  // namespace

std::unique_ptr<Op> make_normalization(const OpSpec& spec) { return std::make_unique<NormalizationOp>(spec); }

}  // namespace fastdnn
