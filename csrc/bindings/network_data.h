// The arrays a Network's methods take and fill, checked and converted: x (one
// array, or a list with one per input slot), y (one array, or a list with one
// per head), sample_weight, and the caller's output buffers.
#pragma once
#include <mutex>
#include <vector>

#include "bindings/checks.h"
#include "engine/network.h"
#include "kernels/float_mode.h"

namespace fastdnn::bind {

// Runs `work` with the GIL released, the network's lock held, and subnormal
// numbers flushed to zero (kernels/float_mode.h).
template <class Work>
auto locked(Network& net, Work work) {
  py::gil_scoped_release release;
  std::lock_guard<std::mutex> lock(net.mutex);
  FlushDenormals flush;
  return work();
}

// (loss, hits), or (loss, hits, weighted hits) when the call had sample weights.
inline py::tuple result_tuple(const BatchResult& r, bool weighted) {
  if (weighted) return py::tuple(py::make_tuple(r.loss, r.hits, r.weighted_hits));
  return py::tuple(py::make_tuple(r.loss, r.hits));
}

// x as (rows, width) float32 per input slot.
struct Inputs {
  std::vector<FloatArray> arrays;
  std::vector<const float*> data;  // one pointer per input slot
  int64_t rows() const { return arrays[0].shape(0); }
};
// allow_empty: x may have 0 rows (a data-parallel shard); otherwise at least one.
Inputs inputs_of(const Network& net, py::handle x, bool allow_empty = false);

// x and y (and sample_weight) of one call; `keep` owns the converted arrays.
struct Batch {
  Inputs x;
  std::vector<Targets> y;  // one per head
  std::vector<py::object> keep;
  int64_t rows() const { return x.rows(); }
  bool weighted() const { return y[0].weights != nullptr; }
};
Batch batch_of(const Network& net, py::handle x, py::handle y, py::handle sample_weight, bool allow_empty = false);

// None (null), or a writable, C-contiguous float32 array of shape (rows, cols).
float* output_buffer(py::handle obj, const std::string& name, int64_t rows, int64_t cols);
// `outputs` for every head: None, or (listed heads) a list of buffers / None, one per head;
// a single buffer for a network with one head. (rows, output_width(h)) each.
std::vector<float*> output_buffers(const Network& net, py::handle outputs, int64_t rows);
// None (null), or a writable, C-contiguous float64 array of shape `shape`.
double* head_loss_buffer(py::handle obj, std::vector<int64_t> shape);

}  // namespace fastdnn::bind
