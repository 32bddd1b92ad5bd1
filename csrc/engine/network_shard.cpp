// Data-parallel training: one replica's shard of a global batch (compute_shard), the
// update on a gradient buffer that a reducer summed across replicas (apply_gradients,
// in network.cpp with train_step), and whole epochs of both with the reducer called
// between them (train_shards). Bitwise agreement between N replicas and one process
// playing them (fastdnn.distribute.LocalStrategy) follows from each shard's gradient
// depending only on its rows, total_rows, row_offset and the step, never on `world`.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/network.h"
#include "kernels/gradient_transforms.h"

namespace fastdnn {

void Network::scale_loss_gradients(Workspace& ws, int64_t rows, float factor) {
  // Heads may share a gradient slot: each slot is scaled once, by the first head that has it
  // (no allocation: this runs every step of a shard).
  for (size_t h = 0; h < losses_.size(); ++h) {
    if (!losses_[h]) continue;
    const int slot = losses_[h]->grad_slot();
    float* grad = ws.grad(slot);
    bool seen = false;
    for (size_t e = 0; e < h && !seen; ++e) seen = losses_[e] && losses_[e]->grad_slot() == slot;
    if (grad && !seen) scale_in_place(grad, rows * ws.width(slot), factor);
  }
}

void Network::require_shardable(const char* why) const {
  for (size_t i = 0; i < ops_.size(); ++i) {
    if (ops_[i]->spec.kind == OpKind::ActivityRegularization) {
      throw std::invalid_argument("ops[" + std::to_string(i) +
                                  "] is ActivityRegularization, whose penalty is divided by the rows it sees: "
                                  "it cannot be split into shards (" + why + ")");
    }
  }
}

BatchResult Network::compute_shard(const float* const* x, const Targets* y, int64_t rows, int64_t total_rows,
                                   int64_t row_offset, bool update_moving_stats, double* head_losses) {
  if (rows != total_rows) require_shardable("rows != total_rows");
  if (rows == 0) {
    std::fill_n(params_.trainable_grads(), params_.trainable_size(), 0.0f);
    if (head_losses) std::fill_n(head_losses, heads(), 0.0);
    last_train_rows = 0;
    return {};
  }
  const Pass pass{rows, true, update_moving_stats, uint64_t(iterations), row_offset};
  BatchResult result = forward_backward(x, y, pass, total_rows, head_losses);
  const double share = double(rows) / double(total_rows);  // exactly 1.0 for a whole batch
  if (share != 1.0) {
    result.loss *= share;
    for (int h = 0; head_losses && h < heads(); ++h) head_losses[h] *= share;
  }
  return result;
}

int64_t Network::train_shards(const float* const* x, const Targets* y, const int64_t* order, int64_t n,
                              int64_t batch_size, const float* learning_rates, double* losses, double* hits,
                              double* weighted_hits, int64_t rank, int64_t world, const Reducer& reduce,
                              float* const* outputs, double* head_losses) {
  // Refused up front: a shard that happens to hold the whole batch would pass, and ranks would disagree.
  if (world > 1) require_shardable("training over several replicas");
  const int64_t batches = (n + batch_size - 1) / batch_size;
  const size_t heads_n = size_t(heads());
  prepare_gather(y, batch_size);
  // An aborted step leaves the network as after the last applied one: its forward pass moved the
  // moving statistics (and the reducer may have half-written them), so they are put back.
  std::vector<float> state_before(size_t(params_.state_size()));
  float* state = params_.state_values();
  // step_seconds and the profile count the computing, not the reducer's time (communication).
  auto timed = [this](auto work) {
    const auto start = std::chrono::steady_clock::now();
    train_step_running_ = true;
    auto value = work();
    train_step_running_ = false;
    step_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return value;
  };
  for (int64_t b = 0; b < batches; ++b) {
    const int64_t r0 = b * batch_size, global_rows = std::min(batch_size, n - r0);
    const int64_t lo = rank * global_rows / world, rows = (rank + 1) * global_rows / world - lo;
    gather(x, y, order + r0 + lo, rows);
    std::copy_n(state, state_before.size(), state_before.data());
    BatchResult r = timed([&] {
      return compute_shard(gathered_x_pointers_.data(), batch_targets_.data(), rows, global_rows, lo, true,
                           head_losses ? head_losses + b * int64_t(heads_n) : nullptr);
    });
    for (size_t h = 0; outputs && h < heads_n; ++h) {
      const int64_t width = output_width(int(h));
      if (outputs[h] && rows > 0) {
        std::memcpy(outputs[h] + (r0 + lo) * width, training_output(int(h)), sizeof(float) * size_t(rows * width));
      }
    }
    const Reduced decision = reduce(rows, r);
    if (decision == Reduced::Abort) {
      std::copy(state_before.begin(), state_before.end(), state);
      return b;
    }
    losses[b] = r.loss + timed([&] { return apply_gradients(learning_rates[b]); });
    hits[b] = r.hits;
    if (weighted_hits) weighted_hits[b] = r.weighted_hits;
    if (profiling) ++profile.steps;
    if (decision == Reduced::Stop) return b + 1;
  }
  return batches;
}

}  // namespace fastdnn
