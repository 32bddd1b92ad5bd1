// A network: ops over slots, their parameters, a loss and an optimizer, and
// whole steps (forward, loss, backward, update) over preallocated buffers.
// Nothing here touches Python; the bindings validate every input first.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "engine/graph.h"
#include "engine/loss.h"
#include "engine/op.h"
#include "engine/optimizer.h"
#include "engine/params.h"

namespace fastdnn {

// k = input_widths.size() input slots, then one slot per op; heads read slots.
struct NetworkSpec {
  std::vector<int64_t> input_widths;
  std::vector<OpSpec> ops;
  std::vector<HeadSpec> heads;
  OptimizerSpec optimizer;
  // Given as lists (Python then passes and gets lists, one entry per input / head).
  bool listed_inputs = false, listed_heads = false;
};

// Where a training step's time goes, when profiling is on: one counter per op
// kind (indexed by OpKind), then the loss, the optimizer update, and the rest
// (input checks, regularization penalties).
struct StepProfile {
  static constexpr int kLoss = kOpKinds, kOptimizer = kOpKinds + 1, kOther = kOpKinds + 2;
  static constexpr int kParts = kOpKinds + 3;
  double seconds[kParts] = {};
  int64_t steps = 0;
};

// Training on NaN or Inf would corrupt the weights and the moving statistics
// for good: throws std::invalid_argument naming the first bad row and column
// of the (rows, width) buffer x. train_step checks its batch with it; fit
// checks the whole training data with it (through the bindings) before any step.
void require_finite(const char* what, const float* x, int64_t rows, int64_t width);

// Below, x holds one batch pointer per input slot, y one Targets per head (any for a
// head without loss; every head's weights are the same per-row weights), and
// outputs / out one buffer per head (null entries: not wanted).
struct BatchResult {
  double loss = 0.0;  // Σ_h weight_h·loss_h (each a mean over the rows), plus the regularization penalty
  double hits = 0.0;  // accuracy hits (the metric's count, not a fraction)
  double weighted_hits = 0.0;  // Σ w·hit over the rows, when the targets have weights
};

class Network {
 public:
  explicit Network(const NetworkSpec& spec);

  // One optimizer step on a batch: forward (training), loss, backward, update.
  // head_losses (unless null) receives each head's unweighted loss (0 without a loss).
  BatchResult train_step(const float* const* x, const Targets* y, int64_t rows, float learning_rate,
                         double* head_losses = nullptr);

  // Steps over the rows `order[0..n)` of (x, y) in batches of `batch_size`, with
  // learning_rates[b] for batch b; losses/hits (and weighted_hits, when y has
  // weights; head_losses, (batches, heads), unless null) receive each batch's result.
  // y's weights are gathered by `order` like its labels. Unless null, outputs[h]
  // (n, output_width(h)) receives each batch's
  // training outputs (the forward pass the step trained on, dropout active) at the
  // rows of its positions in `order`: what Python's stateful metrics see, for a
  // whole epoch in one call. `interrupted` is polled between batches; returns the
  // number of batches run.
  int64_t train_batches(const float* const* x, const Targets* y, const int64_t* order, int64_t n,
                        int64_t batch_size, const float* learning_rates, double* losses,
                        double* hits, double* weighted_hits,
                        const std::function<bool()>& interrupted, float* const* outputs = nullptr,
                        double* head_losses = nullptr);

  // Inference mode over all rows in chunks of batch_size: the mean loss (plus
  // penalty; Σ w·L / rows with weights) and the total hits (and weighted hits);
  // unless null, outputs[h] (rows, output_width(h)) receives the outputs of the same
  // pass (for metrics computed in Python), and head_losses each head's mean loss.
  BatchResult evaluate(const float* const* x, const Targets* y, int64_t rows, int64_t batch_size,
                       float* const* outputs = nullptr, double* head_losses = nullptr);
  // random_stream (non-zero): the draws of ops fixed in training mode (MC Dropout), fresh per call.
  void predict(float* const* out, const float* const* x, int64_t rows, int64_t batch_size,
               uint64_t random_stream = 0);
  // The forward pass in training mode (dropout active, batch statistics) with nothing
  // updated, as Keras' model(x, training=True): Monte Carlo dropout. The random draws
  // come from `random_stream`, a stream apart from every training step's.
  void predict_training(float* const* out, const float* const* x, int64_t rows, int64_t batch_size,
                        uint64_t random_stream);

  // Data-parallel training (network_shard.cpp): one replica's part of a global batch.
  // Forward (training mode), loss and backward on `rows` rows that are rows
  // [row_offset, row_offset + rows) of a global batch of total_rows rows: the gradients of
  // Σ w·L / total_rows (the loss gradient scaled by rows / total_rows) overwrite the gradient
  // buffer; random ops draw what the global batch draws for these rows; BatchNorm uses this
  // shard's statistics and, with update_moving_stats, moves its moving ones with them. No
  // penalty, no update, iterations unchanged. loss = Σ_h weight_h·(Σ w·L_h / total_rows), so the
  // shards' losses sum to the batch's; head_losses[h] = Σ w·L_h / total_rows. 0 rows: a zero
  // gradient, nothing else touched. std::invalid_argument for an ActivityRegularization op when
  // rows != total_rows (its penalty is divided by the rows it sees).
  BatchResult compute_shard(const float* const* x, const Targets* y, int64_t rows, int64_t total_rows,
                            int64_t row_offset, bool update_moving_stats, double* head_losses = nullptr);
  // The tail of train_step on whatever the gradient buffer holds, in its order: the L1/L2
  // penalty's gradient added, clipping, the optimizer's update, constraints, ++iterations.
  // Returns the penalty. train_step = compute_shard(all rows) + apply_gradients, bit for bit.
  double apply_gradients(float learning_rate);

  // What a reducer decided: go on, stop after this step, or abort before applying it.
  enum class Reduced { Continue, Stop, Abort };
  // Called after each step's compute_shard with the shard's rows and result (loss and hits
  // without penalty): sums the gradient (and state) buffers across replicas in place and
  // overwrites `result` with the global batch's loss and hits. Abort: train_shards returns with
  // the network as after the last applied step (the moving statistics put back).
  using Reducer = std::function<Reduced(int64_t shard_rows, BatchResult& result)>;
  // train_batches as replica `rank` of `world`: global batch b = order[b·B, b·B + n_b); this
  // replica takes its rows [rank·n_b/world, (rank+1)·n_b/world) (contiguous, maybe none), runs
  // compute_shard on them, `reduce`, then apply_gradients(learning_rates[b]). losses[b] is the
  // reduced loss plus the penalty; outputs receive this shard's rows at their positions;
  // head_losses this shard's compute_shard head losses (not reduced). Returns the batches applied.
  int64_t train_shards(const float* const* x, const Targets* y, const int64_t* order, int64_t n,
                       int64_t batch_size, const float* learning_rates, double* losses, double* hits,
                       double* weighted_hits, int64_t rank, int64_t world, const Reducer& reduce,
                       float* const* outputs = nullptr, double* head_losses = nullptr);

  // Forward in training mode (without moving the statistics) and backward, but
  // no update: the gradients of the next step, readable in params().
  double compute_gradients(const float* const* x, const Targets* y, int64_t rows);

  // Head h's outputs of the last training forward pass: (last_train_rows, output_width(h)).
  const float* training_output(int h = 0) const { return train_ws_->in(spec_.heads[size_t(h)].slot); }
  int64_t last_train_rows = 0;

  ParamStore& params() { return params_; }
  Optimizer& optimizer() { return *optimizer_; }
  const NetworkSpec& spec() const { return spec_; }
  int inputs() const { return int(spec_.input_widths.size()); }
  int heads() const { return int(spec_.heads.size()); }
  int64_t output_width(int h = 0) const { return widths_[size_t(spec_.heads[size_t(h)].slot)]; }
  int64_t iterations = 0;  // optimizer steps taken; also keys the random streams
  double step_seconds = 0.0;  // wall time spent inside train_step, to measure what lies outside it
  bool profiling = false;     // time each part of train_step into `profile` (a clock read per op)
  StepProfile profile;
  // Every caller that runs the network holds it (the bindings do): one batch at a time.
  std::mutex mutex;

 private:
  double* part(int index);  // the profile counter to charge, or null when not profiling a step
  void forward(Workspace& ws, const Pass& pass);
  // train_step up to its update: checks, forward, loss (and hits), backward. With total_rows
  // != pass.rows the loss gradient is scaled by rows / total_rows first (a shard).
  BatchResult forward_backward(const float* const* x, const Targets* y, const Pass& pass, int64_t total_rows,
                               double* head_losses);
  void scale_loss_gradients(Workspace& ws, int64_t rows, float factor);
  void require_shardable(const char* why) const;  // throws for an ActivityRegularization op
  // train_batches' gathering: buffers for batch_size rows, then rows x[order[i]] (y, weights) into them.
  void prepare_gather(const Targets* y, int64_t batch_size);
  void gather(const float* const* x, const Targets* y, const int64_t* order, int64_t rows);
  // out (rows, output_width) = the forward pass over x in chunks of batch_size, nothing updated;
  // in training mode chunk r0 draws from stream + r0.
  void forward_in_chunks(Workspace& ws, float* const* out, const float* const* x, int64_t rows,
                         int64_t batch_size, bool training, uint64_t stream);
  // Σ_h weight_h·loss_h; with_grad: each head's gradient, times its weight, into its slot.
  double compute_loss(Workspace& ws, const Targets* y, int64_t rows, bool with_grad, double* head_losses);
  Hits head_hits(Workspace& ws, const Targets* y, int64_t rows) const;  // head 0's metric
  void backward(Workspace& ws, const Pass& pass);
  void build_parameters();  // declares, allocates and binds; aliases shared ops' values
  double penalty(bool add_gradients);
  double activity_penalty() const;  // the ops' loss penalties of the last forward, summed
  void prepare_training(int64_t rows);
  void reserve_inference(int64_t rows);  // the inference workspace (and fixed-training ops' scratch)

  NetworkSpec spec_;
  std::vector<std::unique_ptr<Op>> ops_;
  std::vector<int64_t> widths_;
  ParamStore params_;
  std::unique_ptr<Optimizer> optimizer_;
  std::vector<std::unique_ptr<NetworkLoss>> losses_;  // per head; null: no loss
  BackwardPlan plan_;
  // Ops that share another op's parameters declare theirs here: values alias the owner's,
  // gradients are their own, added to the owner's after each backward.
  ParamStore shared_params_;
  std::vector<std::pair<int, int>> shared_grads_;  // (owner's id in params_, id in shared_params_)
  std::vector<std::pair<float*, int64_t>> idle_grads_;  // parameter gradients of ops whose backward never runs
  AlignedBuffer grad_scratch_;  // a reader's part of a gradient another reader wrote first
  int64_t widest_slot_ = 0;
  std::unique_ptr<Workspace> train_ws_, infer_ws_;
  int64_t train_rows_ = 0, infer_rows_ = 0;   // capacity of each workspace
  // A shuffled batch (train_batches): per input slot, per head.
  std::vector<AlignedBuffer> gathered_x_, gathered_values_;
  std::vector<std::vector<int32_t>> gathered_labels_;
  AlignedBuffer gathered_weights_;
  std::vector<const float*> gathered_x_pointers_;
  std::vector<Targets> batch_targets_;
  bool train_step_running_ = false;
};

}  // namespace fastdnn
