// Network's data-parallel methods (engine/network_shard.cpp) as Python sees them:
// bind_network_shards adds the buffer views, compute_shard and apply_gradients to
// _core.Network; train_batches (bindings/network.cpp) hands its replica path here.
#pragma once
#include <cstdint>
#include <vector>

#include "bindings/network_data.h"

namespace fastdnn::bind {

// train_batches' replica=(rank, world) and reducer, checked. `sharded` is false without
// replica (or (0, 1) without reducer): today's path.
struct Replica {
  int64_t rank = 0, world = 1;
  bool sharded = false;
};
Replica replica_of(py::handle replica, py::handle reducer);

// train_batches as replica `r`: each batch's shard, reducer(shard_rows, loss_sum, hits[,
// weighted_hits]) -> (loss, hits[, weighted_hits], stop) with the GIL held, then the update.
// Returns (losses, hits[, weighted_hits]) for the batches applied (fewer after a stop).
py::tuple train_batches_sharded(Network& net, const Batch& data, const int64_t* order, int64_t n,
                                int64_t batch_size, const float* learning_rates, const std::vector<float*>& outputs,
                                double* head_losses, const Replica& r, py::handle reducer);

void bind_network_shards(py::module_& m);  // after bind_network: adds to _core.Network

}  // namespace fastdnn::bind
