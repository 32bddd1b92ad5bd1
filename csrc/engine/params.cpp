#include "engine/params.h"

#include <algorithm>
#include <new>
#include <stdexcept>

#include "kernels/constraints.h"

namespace fastdnn {

int ParamStore::add(ParamInfo info) {
  if (trainable_.data() || state_.data()) throw std::logic_error("ParamStore: add after allocate");
  infos_.push_back(std::move(info));
  return int(infos_.size()) - 1;
}

void ParamStore::allocate() {
  // Each tensor starts on a 64-byte boundary (16 floats); the padding stays zero,
  // and every optimizer maps a zero gradient on a zero weight to zero.
  for (ParamInfo& p : infos_) {
    int64_t& end = p.trainable ? trainable_size_ : state_size_;
    p.offset = end;
    // More floats than any memory holds (and sums that would overflow int64) fail as an allocation would.
    constexpr int64_t kMaxFloats = int64_t(1) << 60;
    if (p.size() < 0 || p.size() > kMaxFloats || end > kMaxFloats - (p.size() + 15) / 16 * 16) throw std::bad_alloc();
    end += (p.size() + 15) / 16 * 16;
  }
  trainable_.reserve(std::max<int64_t>(trainable_size_, 1));
  grads_.reserve(std::max<int64_t>(trainable_size_, 1));
  state_.reserve(std::max<int64_t>(state_size_, 1));
  for (int id = 0; id < int(infos_.size()); ++id) {
    std::fill(value(id), value(id) + infos_[id].size(), infos_[id].initial);
  }
}

float* ParamStore::value(int id) {
  const ParamInfo& p = infos_.at(id);
  if (!aliases_.empty() && aliases_[size_t(id)]) return aliases_[size_t(id)];
  return (p.trainable ? trainable_.data() : state_.data()) + p.offset;
}

float* ParamStore::grad(int id) {
  const ParamInfo& p = infos_.at(id);
  return p.trainable ? grads_.data() + p.offset : nullptr;
}

void ParamStore::alias(int id, float* values) {
  aliases_.resize(infos_.size(), nullptr);
  aliases_.at(size_t(id)) = values;
}

void ParamStore::apply_constraints() {
  for (int id = 0; id < int(infos_.size()); ++id) {
    const ParamInfo& p = infos_[id];
    const Constraint& c = p.constraint;
    if (!p.trainable || c.kind == Constraint::Kind::None) continue;
    if (c.kind == Constraint::Kind::NonNeg) {
      non_neg_constraint(value(id), p.size());
      continue;
    }
    // A vector is one column; All is the whole tensor as one column.
    const bool whole = c.over == Constraint::Over::All || p.cols == 0;
    const int64_t rows = whole ? p.size() : p.rows, cols = whole ? 1 : p.cols;
    const int axis = c.over == Constraint::Over::Columns && !whole ? 1 : 0;
    min_max_norm_constraint(value(id), rows, cols, axis, c.min_value, c.max_value, c.rate);
  }
}

}  // namespace fastdnn
