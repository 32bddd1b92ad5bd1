// Every parameter and statistic of a network, in two flat buffers: trainable
// values (with a gradient buffer laid out the same, which the optimizer walks
// in one pass) and non-trainable state (moving statistics, frozen layers).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/buffer.h"

namespace fastdnn {

struct Regularizer {
  float l1 = 0.0f, l2 = 0.0f;
};

// A projection applied to a weight after every optimizer step (Keras' constraints):
// NonNeg, or MinMaxNorm (MaxNorm and UnitNorm are settings of it) over the norms
// taken per column (Rows: axis 0 of a (rows, cols) kernel), per row (Columns: axis 1),
// or over the whole tensor (All: a vector with axis 0, or a kernel with axis [0, 1]).
struct Constraint {
  enum class Kind { None, NonNeg, MinMaxNorm } kind = Kind::None;
  enum class Over { Rows, Columns, All } over = Over::Rows;
  float min_value = 0.0f, max_value = 0.0f, rate = 1.0f;
};

struct ParamInfo {
  std::string name;  // Keras' weight name: kernel, bias, gamma, beta, moving_mean, ...
  int op = 0;        // index of the op that owns it
  int64_t rows = 0, cols = 0;  // cols == 0 for a vector of `rows` entries
  bool trainable = true;
  Regularizer regularizer;
  float initial = 0.0f;
  int64_t offset = 0;  // into the trainable or the state buffer, 64-byte aligned
  Constraint constraint;
  int64_t size() const { return cols == 0 ? rows : rows * cols; }
};

class ParamStore {
 public:
  // Registers a tensor; returns its id. Call before allocate().
  int add(ParamInfo info);
  // Lays the tensors out and fills them with their initial values.
  void allocate();

  float* value(int id);
  float* grad(int id);  // null for a non-trainable tensor
  // From now on value(id) is `values` (another store's tensor): a shared layer's second
  // application reads its owner's values and keeps its own gradient.
  void alias(int id, float* values);
  // Projects every trainable tensor that has a constraint (after an optimizer step, as Keras).
  void apply_constraints();
  const std::vector<ParamInfo>& infos() const { return infos_; }

  float* trainable_values() { return trainable_.data(); }
  float* trainable_grads() { return grads_.data(); }
  int64_t trainable_size() const { return trainable_size_; }
  float* state_values() { return state_.data(); }
  int64_t state_size() const { return state_size_; }

 private:
  std::vector<ParamInfo> infos_;
  std::vector<float*> aliases_;  // per id, or empty: no aliases
  AlignedBuffer trainable_, grads_, state_;
  int64_t trainable_size_ = 0, state_size_ = 0;
};

}  // namespace fastdnn
