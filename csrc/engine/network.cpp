#include "engine/network.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>

#include "kernels/gradient_transforms.h"

namespace fastdnn {

namespace {

// Index of the first NaN or ±Inf in x[0..n), or -1. (v − v is NaN exactly for those.)
int64_t first_non_finite(const float* x, int64_t n) {
  unsigned any = 0;  // an int OR vectorizes, a bool one did not (it scanned at ~1 ns per value)
  for (int64_t i = 0; i < n; ++i) any |= unsigned(!(x[i] - x[i] == 0.0f));
  if (!any) return -1;
  for (int64_t i = 0; i < n; ++i) {
    if (!(x[i] - x[i] == 0.0f)) return i;
  }
  return -1;
}

// Adds the time until it goes out of scope to `*total`; does nothing for null.
class PartTimer {
 public:
  explicit PartTimer(double* total) : total_(total) {
    if (total_) start_ = std::chrono::steady_clock::now();
  }
  ~PartTimer() {
    if (total_) *total_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  double* total_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace

void require_finite(const char* what, const float* x, int64_t rows, int64_t width) {
  const int64_t i = first_non_finite(x, rows * width);
  if (i >= 0) {
    throw std::invalid_argument(std::string(what) + " contains NaN or Inf (row " +
                                std::to_string(i / width) + ", column " +
                                std::to_string(i % width) + "); training refuses it");
  }
}

Network::Network(const NetworkSpec& spec) : spec_(spec) {
  if (spec_.ops.empty()) throw std::invalid_argument("a network needs at least one op");
  widths_.push_back(spec_.input_width);
  for (size_t i = 0; i < spec_.ops.size(); ++i) {
    OpSpec& s = spec_.ops[i];
    if (s.input < 0) s.input = int(i);
    if (s.output < 0) s.output = int(i) + 1;
    if (s.input != int(i) || s.output != int(i) + 1) {
      throw std::invalid_argument("op " + std::to_string(i) + " must read slot " +
                                  std::to_string(i) + " and write slot " + std::to_string(i + 1) +
                                  " (only sequential networks are supported)");
    }
    std::unique_ptr<Op> op = make_op(s);
    op->in_width = widths_.back();
    op->out_width = op->output_width(op->in_width);
    widths_.push_back(op->out_width);
    ops_.push_back(std::move(op));
  }
  for (size_t i = 0; i < ops_.size(); ++i) ops_[i]->declare(params_, int(i));
  params_.allocate();
  for (auto& op : ops_) op->bind(params_);
  optimizer_ = std::make_unique<Optimizer>(spec_.optimizer, params_.trainable_size());
  loss_ = std::make_unique<NetworkLoss>(spec_.loss, ops_);
  train_ws_ = std::make_unique<Workspace>(widths_, true);
  infer_ws_ = std::make_unique<Workspace>(widths_, false);
}

double* Network::part(int index) {
  return profiling && train_step_running_ ? &profile.seconds[index] : nullptr;
}

void Network::forward(Workspace& ws, const Pass& pass) {
  for (auto& op : ops_) {
    PartTimer timer(part(int(op->spec.kind)));
    op->forward(ws, pass);
  }
}

void Network::backward(Workspace& ws, const Pass& pass) {
  const int64_t last = int64_t(ops_.size()) - (loss_->fused() ? 2 : 1);
  for (int64_t i = last; i >= 0; --i) {
    PartTimer timer(part(int(ops_[i]->spec.kind)));
    ops_[i]->backward(ws, pass);
  }
}

double Network::penalty(bool add_gradients) {
  double total = 0.0;
  for (int id = 0; id < int(params_.infos().size()); ++id) {
    const ParamInfo& p = params_.infos()[id];
    if (!p.trainable) continue;
    total += regularize(add_gradients ? params_.grad(id) : nullptr, params_.value(id), p.size(),
                        p.regularizer.l1, p.regularizer.l2);
  }
  return total;
}

double Network::activity_penalty() const {
  double total = 0.0;
  for (const auto& op : ops_) total += op->loss_penalty();
  return total;
}

void Network::prepare_training(int64_t rows) {
  if (rows <= train_rows_) return;
  train_ws_->reserve(rows);
  for (auto& op : ops_) op->reserve(rows);
  train_rows_ = rows;
}

BatchResult Network::train_step(const float* x, const Targets& y, int64_t rows, float lr) {
  const auto start = std::chrono::steady_clock::now();
  train_step_running_ = true;
  {
    PartTimer timer(part(StepProfile::kOther));
    require_finite("x", x, rows, spec_.input_width);
    if (y.values) require_finite("y", y.values, rows, y.width);
    prepare_training(rows);
  }
  Workspace& ws = *train_ws_;
  ws.set_input(x);
  const Pass pass{rows, true, true, uint64_t(iterations)};
  forward(ws, pass);
  last_train_rows = rows;
  BatchResult result;
  {
    PartTimer timer(part(StepProfile::kLoss));
    result.loss = loss_->compute(ws, y, rows, true) + activity_penalty() / double(rows);
    const Hits h = loss_->hits(ws.in(ws.slots() - 1), y, rows, output_width());
    result.hits = h.count;
    result.weighted_hits = h.weighted;
  }
  backward(ws, pass);
  {
    PartTimer timer(part(StepProfile::kOther));
    result.loss += penalty(true);
  }
  {
    PartTimer timer(part(StepProfile::kOptimizer));
    optimizer_->step(params_, lr, iterations + 1);
    params_.apply_constraints();
  }
  ++iterations;
  train_step_running_ = false;
  if (profiling) ++profile.steps;
  step_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

int64_t Network::train_batches(const float* x, const Targets& y, const int64_t* order, int64_t n,
                               int64_t batch_size, const float* learning_rates, double* losses,
                               double* hits, double* weighted_hits,
                               const std::function<bool()>& interrupted, float* outputs) {
  const int64_t in = spec_.input_width, batches = (n + batch_size - 1) / batch_size;
  gathered_x_.reserve(batch_size * in);
  if (y.values) gathered_values_.reserve(batch_size * y.width);
  if (y.labels) gathered_labels_.resize(size_t(batch_size));
  if (y.weights) gathered_weights_.reserve(batch_size);
  for (int64_t b = 0; b < batches; ++b) {
    const int64_t r0 = b * batch_size, rows = std::min(batch_size, n - r0);
    for (int64_t i = 0; i < rows; ++i) {
      const int64_t src = order[r0 + i];
      std::memcpy(gathered_x_.data() + i * in, x + src * in, sizeof(float) * size_t(in));
      if (y.values) {
        std::memcpy(gathered_values_.data() + i * y.width, y.values + src * y.width,
                    sizeof(float) * size_t(y.width));
      }
      if (y.labels) gathered_labels_[size_t(i)] = y.labels[src];
      if (y.weights) gathered_weights_.data()[i] = y.weights[src];
    }
    const Targets batch_y{y.labels ? gathered_labels_.data() : nullptr,
                          y.values ? gathered_values_.data() : nullptr, y.width,
                          y.weights ? gathered_weights_.data() : nullptr};
    const BatchResult r = train_step(gathered_x_.data(), batch_y, rows, learning_rates[b]);
    losses[b] = r.loss;
    hits[b] = r.hits;
    if (weighted_hits) weighted_hits[b] = r.weighted_hits;
    if (outputs) {
      std::memcpy(outputs + r0 * output_width(), training_output(), sizeof(float) * size_t(rows * output_width()));
    }
    if (interrupted && interrupted()) return b + 1;
  }
  return batches;
}

BatchResult Network::evaluate(const float* x, const Targets& y, int64_t rows, int64_t batch_size,
                              float* outputs) {
  Workspace& ws = *infer_ws_;
  if (std::min(rows, batch_size) > infer_rows_) ws.reserve(infer_rows_ = std::min(rows, batch_size));
  double loss_sum = 0.0;
  Hits hits;
  for (int64_t r0 = 0; r0 < rows; r0 += batch_size) {
    const int64_t b = std::min(batch_size, rows - r0);
    ws.set_input(x + r0 * spec_.input_width);
    forward(ws, Pass{b, false, false, uint64_t(iterations)});
    const Targets yb = y.rows_from(r0);
    loss_sum += loss_->compute(ws, yb, b, false) * double(b) + activity_penalty();
    const Hits h = loss_->hits(ws.in(ws.slots() - 1), yb, b, output_width());
    hits.count += h.count;
    hits.weighted += h.weighted;
    if (outputs) {
      std::memcpy(outputs + r0 * output_width(), ws.in(ws.slots() - 1), sizeof(float) * size_t(b * output_width()));
    }
  }
  return {loss_sum / double(rows) + penalty(false), hits.count, hits.weighted};
}

void Network::forward_in_chunks(Workspace& ws, float* out, const float* x, int64_t rows, int64_t batch_size,
                                bool training, uint64_t stream) {
  const int64_t width = output_width();
  for (int64_t r0 = 0; r0 < rows; r0 += batch_size) {
    const int64_t b = std::min(batch_size, rows - r0);
    ws.set_input(x + r0 * spec_.input_width);
    forward(ws, Pass{b, training, false, training ? stream + uint64_t(r0) : stream});
    std::memcpy(out + r0 * width, ws.in(ws.slots() - 1), sizeof(float) * size_t(b * width));
  }
}

void Network::predict(float* out, const float* x, int64_t rows, int64_t batch_size) {
  if (std::min(rows, batch_size) > infer_rows_) infer_ws_->reserve(infer_rows_ = std::min(rows, batch_size));
  forward_in_chunks(*infer_ws_, out, x, rows, batch_size, false, uint64_t(iterations));
}

void Network::predict_training(float* out, const float* x, int64_t rows, int64_t batch_size,
                               uint64_t random_stream) {
  prepare_training(std::min(rows, batch_size));  // the ops keep their masks and batch statistics
  // Training steps key their draws by the step count (< 2^63): the top bit keeps these apart.
  forward_in_chunks(*train_ws_, out, x, rows, batch_size, true, random_stream | (uint64_t(1) << 63));
}

double Network::compute_gradients(const float* x, const Targets& y, int64_t rows) {
  prepare_training(rows);
  Workspace& ws = *train_ws_;
  ws.set_input(x);
  const Pass pass{rows, true, false, uint64_t(iterations)};
  forward(ws, pass);
  const double loss = loss_->compute(ws, y, rows, true) + activity_penalty() / double(rows);
  backward(ws, pass);
  return loss + penalty(true);
}

}  // namespace fastdnn
