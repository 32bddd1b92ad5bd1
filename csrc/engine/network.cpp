#include "engine/network.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>

#include "kernels/gradient_transforms.h"
#include "kernels/merge.h"

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

double* Network::part(int index) {
  return profiling && train_step_running_ ? &profile.seconds[index] : nullptr;
}

void Network::forward(Workspace& ws, const Pass& pass) {
  for (auto& op : ops_) {
    PartTimer timer(part(int(op->spec.kind)));
    if (op->spec.fixed_training < 0) {
      op->forward(ws, pass);
      continue;
    }
    Pass fixed = pass;
    fixed.training = op->spec.fixed_training == 1;
    op->forward(ws, fixed);
  }
}

void Network::reserve_inference(int64_t rows) {
  if (rows <= infer_rows_) return;
  infer_ws_->reserve(infer_rows_ = rows);
  // An op fixed in training mode (MC Dropout) keeps its mask in inference passes too.
  for (auto& op : ops_) {
    if (op->spec.fixed_training == 1) op->reserve(rows);
  }
}

void Network::backward(Workspace& ws, const Pass& pass) {
  for (int slot : plan_.zeroed_slots) std::fill_n(ws.grad(slot), pass.rows * ws.width(slot), 0.0f);
  for (const auto& [grad, size] : idle_grads_) std::fill_n(grad, size, 0.0f);
  for (int64_t i = int64_t(ops_.size()) - 1; i >= 0; --i) {
    if (!plan_.runs[size_t(i)]) continue;
    Op& op = *ops_[size_t(i)];
    PartTimer timer(part(int(op.spec.kind)));
    if (op.accumulate[0] && !op.accumulates_itself()) {
      // Another reader wrote this slot's gradient: this op's part goes to scratch, then adds.
      ws.redirect_grad(op.spec.input, grad_scratch_.data());
      op.backward(ws, pass);
      ws.redirect_grad(-1, nullptr);
      accumulate_into(ws.grad(op.spec.input), grad_scratch_.data(), pass.rows * op.in_width);
    } else {
      op.backward(ws, pass);
    }
  }
  for (const auto& [owner, shared] : shared_grads_) {
    accumulate_into(params_.grad(owner), shared_params_.grad(shared), params_.infos()[size_t(owner)].size());
  }
}

double Network::compute_loss(Workspace& ws, const Targets* y, int64_t rows, bool with_grad, double* head_losses) {
  double total = 0.0;
  for (size_t h = 0; h < losses_.size(); ++h) {
    const NetworkLoss* loss = losses_[h].get();
    if (!loss) {
      if (head_losses) head_losses[h] = 0.0;
      continue;
    }
    float* target = with_grad ? ws.grad(loss->grad_slot()) : nullptr;
    float* grad = target && plan_.head_accumulates[h] ? grad_scratch_.data() : target;
    const double value = loss->compute(ws, y[h], rows, grad);
    const double weight = spec_.heads[h].weight;
    const int64_t n = rows * ws.width(loss->grad_slot());
    if (grad && weight != 1.0) scale_in_place(grad, n, float(weight));
    if (grad != target) accumulate_into(target, grad, n);
    if (head_losses) head_losses[h] = value;
    total += weight == 1.0 ? value : weight * value;
  }
  return total;
}

Hits Network::head_hits(Workspace& ws, const Targets* y, int64_t rows) const {
  if (!losses_[0]) return {};
  return losses_[0]->hits(ws.in(spec_.heads[0].slot), y[0], rows, output_width(0));
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
  if (plan_.accumulates) grad_scratch_.reserve(rows * widest_slot_);
  train_rows_ = rows;
}

BatchResult Network::forward_backward(const float* const* x, const Targets* y, const Pass& pass,
                                      int64_t total_rows, double* head_losses) {
  const int64_t rows = pass.rows;
  {
    PartTimer timer(part(StepProfile::kOther));
    for (int s = 0; s < inputs(); ++s) {
      require_finite(inputs() == 1 ? "x" : ("x[" + std::to_string(s) + "]").c_str(), x[s], rows,
                     spec_.input_widths[size_t(s)]);
    }
    for (int h = 0; h < heads(); ++h) {
      if (losses_[size_t(h)] && y[h].values) {
        require_finite(heads() == 1 ? "y" : ("y[" + std::to_string(h) + "]").c_str(), y[h].values, rows, y[h].width);
      }
    }
    prepare_training(rows);
  }
  Workspace& ws = *train_ws_;
  ws.set_inputs(x);
  forward(ws, pass);
  last_train_rows = rows;
  BatchResult result;
  {
    PartTimer timer(part(StepProfile::kLoss));
    result.loss = compute_loss(ws, y, rows, true, head_losses) + activity_penalty() / double(rows);
    const Hits h = head_hits(ws, y, rows);
    result.hits = h.count;
    result.weighted_hits = h.weighted;
    if (total_rows != rows) scale_loss_gradients(ws, rows, float(double(rows) / double(total_rows)));
  }
  backward(ws, pass);
  return result;
}

double Network::apply_gradients(float lr) {
  double total = 0.0;
  {
    PartTimer timer(part(StepProfile::kOther));
    total = penalty(true);
  }
  {
    PartTimer timer(part(StepProfile::kOptimizer));
    optimizer_->step(params_, lr, iterations + 1);
    params_.apply_constraints();
  }
  ++iterations;
  return total;
}

BatchResult Network::train_step(const float* const* x, const Targets* y, int64_t rows, float lr,
                                double* head_losses) {
  const auto start = std::chrono::steady_clock::now();
  train_step_running_ = true;
  BatchResult result = forward_backward(x, y, Pass{rows, true, true, uint64_t(iterations)}, rows, head_losses);
  result.loss += apply_gradients(lr);
  train_step_running_ = false;
  if (profiling) ++profile.steps;
  step_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

void Network::prepare_gather(const Targets* y, int64_t batch_size) {
  const size_t k = size_t(inputs()), heads_n = size_t(heads());
  gathered_x_.resize(k);
  gathered_x_pointers_.resize(k);
  gathered_values_.resize(heads_n);
  gathered_labels_.resize(heads_n);
  batch_targets_.resize(heads_n);
  for (size_t s = 0; s < k; ++s) {
    gathered_x_[s].reserve(batch_size * spec_.input_widths[s]);
    gathered_x_pointers_[s] = gathered_x_[s].data();
  }
  const float* weights = y[0].weights;  // the same for every head
  if (weights) gathered_weights_.reserve(batch_size);
  for (size_t h = 0; h < heads_n; ++h) {
    if (y[h].values) gathered_values_[h].reserve(batch_size * y[h].width);
    if (y[h].labels) gathered_labels_[h].resize(size_t(batch_size));
    batch_targets_[h] = Targets{y[h].labels ? gathered_labels_[h].data() : nullptr,
                                y[h].values ? gathered_values_[h].data() : nullptr, y[h].width,
                                weights ? gathered_weights_.data() : nullptr};
  }
}

void Network::gather(const float* const* x, const Targets* y, const int64_t* order, int64_t rows) {
  const size_t k = size_t(inputs()), heads_n = size_t(heads());
  const float* weights = y[0].weights;
  for (int64_t i = 0; i < rows; ++i) {
    const int64_t src = order[i];
    for (size_t s = 0; s < k; ++s) {
      const int64_t in = spec_.input_widths[s];
      std::memcpy(gathered_x_[s].data() + i * in, x[s] + src * in, sizeof(float) * size_t(in));
    }
    for (size_t h = 0; h < heads_n; ++h) {
      const Targets& t = y[h];
      if (t.values) {
        std::memcpy(gathered_values_[h].data() + i * t.width, t.values + src * t.width,
                    sizeof(float) * size_t(t.width));
      }
      if (t.labels) gathered_labels_[h][size_t(i)] = t.labels[src];
    }
    if (weights) gathered_weights_.data()[i] = weights[src];
  }
}

int64_t Network::train_batches(const float* const* x, const Targets* y, const int64_t* order, int64_t n,
                               int64_t batch_size, const float* learning_rates, double* losses,
                               double* hits, double* weighted_hits,
                               const std::function<bool()>& interrupted, float* const* outputs,
                               double* head_losses) {
  const int64_t batches = (n + batch_size - 1) / batch_size;
  const size_t heads_n = size_t(heads());
  prepare_gather(y, batch_size);
  for (int64_t b = 0; b < batches; ++b) {
    const int64_t r0 = b * batch_size, rows = std::min(batch_size, n - r0);
    gather(x, y, order + r0, rows);
    const BatchResult r = train_step(gathered_x_pointers_.data(), batch_targets_.data(), rows, learning_rates[b],
                                     head_losses ? head_losses + b * int64_t(heads_n) : nullptr);
    losses[b] = r.loss;
    hits[b] = r.hits;
    if (weighted_hits) weighted_hits[b] = r.weighted_hits;
    for (size_t h = 0; outputs && h < heads_n; ++h) {
      const int64_t width = output_width(int(h));
      if (outputs[h]) {
        std::memcpy(outputs[h] + r0 * width, training_output(int(h)), sizeof(float) * size_t(rows * width));
      }
    }
    if (interrupted && interrupted()) return b + 1;
  }
  return batches;
}

BatchResult Network::evaluate(const float* const* x, const Targets* y, int64_t rows, int64_t batch_size,
                              float* const* outputs, double* head_losses) {
  Workspace& ws = *infer_ws_;
  reserve_inference(std::min(rows, batch_size));
  const size_t k = size_t(inputs()), heads_n = size_t(heads());
  std::vector<const float*> xb(k);
  std::vector<Targets> yb(heads_n);
  std::vector<double> batch_head_losses(heads_n), head_sums(heads_n, 0.0);
  double loss_sum = 0.0;
  Hits hits;
  for (int64_t r0 = 0; r0 < rows; r0 += batch_size) {
    const int64_t b = std::min(batch_size, rows - r0);
    for (size_t s = 0; s < k; ++s) xb[s] = x[s] + r0 * spec_.input_widths[s];
    for (size_t h = 0; h < heads_n; ++h) yb[h] = y[h].rows_from(r0);
    ws.set_inputs(xb.data());
    forward(ws, Pass{b, false, false, uint64_t(iterations) + uint64_t(r0)});
    loss_sum += compute_loss(ws, yb.data(), b, false, batch_head_losses.data()) * double(b) + activity_penalty();
    for (size_t h = 0; h < heads_n; ++h) head_sums[h] += batch_head_losses[h] * double(b);
    const Hits h = head_hits(ws, yb.data(), b);
    hits.count += h.count;
    hits.weighted += h.weighted;
    for (size_t o = 0; outputs && o < heads_n; ++o) {
      const int64_t width = output_width(int(o));
      if (outputs[o]) {
        std::memcpy(outputs[o] + r0 * width, ws.in(spec_.heads[o].slot), sizeof(float) * size_t(b * width));
      }
    }
  }
  for (size_t h = 0; head_losses && h < heads_n; ++h) head_losses[h] = head_sums[h] / double(rows);
  return {loss_sum / double(rows) + penalty(false), hits.count, hits.weighted};
}

void Network::forward_in_chunks(Workspace& ws, float* const* out, const float* const* x, int64_t rows,
                                int64_t batch_size, bool training, uint64_t stream) {
  std::vector<const float*> xb(static_cast<size_t>(inputs()));
  for (int64_t r0 = 0; r0 < rows; r0 += batch_size) {
    const int64_t b = std::min(batch_size, rows - r0);
    for (int s = 0; s < inputs(); ++s) xb[size_t(s)] = x[s] + r0 * spec_.input_widths[size_t(s)];
    ws.set_inputs(xb.data());
    // Each chunk draws apart (dropout in training, or an op fixed in training mode).
    forward(ws, Pass{b, training, false, stream + uint64_t(r0)});
    for (int h = 0; h < heads(); ++h) {
      const int64_t width = output_width(h);
      std::memcpy(out[h] + r0 * width, ws.in(spec_.heads[size_t(h)].slot), sizeof(float) * size_t(b * width));
    }
  }
}

void Network::predict(float* const* out, const float* const* x, int64_t rows, int64_t batch_size,
                      uint64_t random_stream) {
  reserve_inference(std::min(rows, batch_size));
  // Only ops fixed in training mode draw in inference; the second-top bit keeps their draws apart
  // from the training steps' (< 2^62) and from predict_training's (top bit).
  const uint64_t stream = random_stream ? random_stream | (uint64_t(1) << 62) : uint64_t(iterations);
  forward_in_chunks(*infer_ws_, out, x, rows, batch_size, false, stream);
}

void Network::predict_training(float* const* out, const float* const* x, int64_t rows, int64_t batch_size,
                               uint64_t random_stream) {
  prepare_training(std::min(rows, batch_size));  // the ops keep their masks and batch statistics
  // Training steps key their draws by the step count (< 2^63): the top bit keeps these apart.
  forward_in_chunks(*train_ws_, out, x, rows, batch_size, true, random_stream | (uint64_t(1) << 63));
}

double Network::compute_gradients(const float* const* x, const Targets* y, int64_t rows) {
  prepare_training(rows);
  Workspace& ws = *train_ws_;
  ws.set_inputs(x);
  const Pass pass{rows, true, false, uint64_t(iterations)};
  forward(ws, pass);
  const double loss = compute_loss(ws, y, rows, true, nullptr) + activity_penalty() / double(rows);
  backward(ws, pass);
  return loss + penalty(true);
}

}  // namespace fastdnn
