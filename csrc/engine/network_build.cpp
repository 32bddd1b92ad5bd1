// Building a network from its spec: the ops and their widths, the parameters (an op
// that shares another's declares its own gradients, its values alias the owner's),
// the loss heads with their softmax/sigmoid fusion, and the backward plan (engine/graph.h).
#include <algorithm>
#include <stdexcept>
#include <string>

#include "engine/network.h"

namespace fastdnn {

Network::Network(const NetworkSpec& spec) : spec_(spec) {
  if (spec_.ops.empty()) throw std::invalid_argument("a network needs at least one op");
  if (spec_.heads.empty()) throw std::invalid_argument("a network needs at least one head");
  const int k = inputs();
  resolve_plan(spec_.ops, k, spec_.heads);
  widths_ = spec_.input_widths;
  for (size_t i = 0; i < spec_.ops.size(); ++i) {
    std::unique_ptr<Op> op = make_op(spec_.ops[i]);
    for (int slot : op->spec.inputs) op->in_widths.push_back(widths_[size_t(slot)]);
    op->in_width = op->in_widths[0];
    op->out_width = checked_output_width(*op, int(i));
    widths_.push_back(op->out_width);
    ops_.push_back(std::move(op));
  }
  build_parameters();
  optimizer_ = std::make_unique<Optimizer>(spec_.optimizer, params_.trainable_size());
  std::vector<int> head_grad_slots;
  std::vector<bool> fused(ops_.size(), false);
  for (int h = 0; h < heads(); ++h) {
    const HeadSpec& head = spec_.heads[size_t(h)];
    const Op* producer = head.slot >= k ? ops_[size_t(head.slot - k)].get() : nullptr;
    losses_.push_back(head.has_loss ? std::make_unique<NetworkLoss>(head.loss, head.slot, producer,
                                                                    head_may_fuse(ops_, k, spec_.heads, h))
                                    : nullptr);
    head_grad_slots.push_back(head.has_loss ? losses_.back()->grad_slot() : -1);
    if (head.has_loss && losses_.back()->fused()) fused[size_t(head.slot - k)] = true;
  }
  plan_ = plan_backward(ops_, k, head_grad_slots, fused);
  for (size_t i = 0; i < ops_.size(); ++i) {
    if (plan_.runs[i] || fused[i]) continue;
    for (const auto& [owner, shared] : shared_grads_) {
      if (shared_params_.infos()[size_t(shared)].op == int(i)) {
        idle_grads_.emplace_back(shared_params_.grad(shared), shared_params_.infos()[size_t(shared)].size());
      }
    }
    for (int id = 0; id < int(params_.infos().size()); ++id) {
      const ParamInfo& p = params_.infos()[size_t(id)];
      if (p.op == int(i) && p.trainable) idle_grads_.emplace_back(params_.grad(id), p.size());
    }
  }
  for (int64_t w : widths_) widest_slot_ = std::max(widest_slot_, w);
  train_ws_ = std::make_unique<Workspace>(widths_, k, true);
  infer_ws_ = std::make_unique<Workspace>(widths_, k, false);
}

void Network::build_parameters() {
  // Each op's tensors are ids [first[i], last[i]) of its store.
  std::vector<int> first(ops_.size()), last(ops_.size());
  for (size_t i = 0; i < ops_.size(); ++i) {
    ParamStore& store = ops_[i]->spec.shares >= 0 ? shared_params_ : params_;
    first[i] = int(store.infos().size());
    ops_[i]->declare(store, int(i));
    last[i] = int(store.infos().size());
  }
  params_.allocate();
  shared_params_.allocate();
  for (size_t i = 0; i < ops_.size(); ++i) {
    const int owner = ops_[i]->spec.shares;
    if (owner < 0) {
      ops_[i]->bind(params_);
      continue;
    }
    auto describe = [](const ParamStore& store, int begin, int end) {
      std::string s;
      for (int id = begin; id < end; ++id) {
        const ParamInfo& p = store.infos()[size_t(id)];
        s += (s.empty() ? "" : ", ") + p.name + " (" + std::to_string(p.rows) +
             (p.cols ? ", " + std::to_string(p.cols) : std::string(",")) + ")" + (p.trainable ? "" : " frozen");
      }
      return s.empty() ? std::string("none") : s;
    };
    const int owned = last[size_t(owner)] - first[size_t(owner)], own = last[i] - first[i];
    bool same = owned == own;
    for (int m = 0; same && m < own; ++m) {
      const ParamInfo& a = params_.infos()[size_t(first[size_t(owner)] + m)];
      const ParamInfo& b = shared_params_.infos()[size_t(first[i] + m)];
      same = a.name == b.name && a.rows == b.rows && a.cols == b.cols && a.trainable == b.trainable;
    }
    if (!same) {
      throw std::invalid_argument("ops[" + std::to_string(i) + "]['shares'] = " + std::to_string(owner) + ": op " +
                                  std::to_string(owner) + "'s parameters are " +
                                  describe(params_, first[size_t(owner)], last[size_t(owner)]) +
                                  "; this op's would be " + describe(shared_params_, first[i], last[i]));
    }
    for (int m = 0; m < own; ++m) {
      const int owner_id = first[size_t(owner)] + m, id = first[i] + m;
      shared_params_.alias(id, params_.value(owner_id));
      if (params_.infos()[size_t(owner_id)].trainable) shared_grads_.emplace_back(owner_id, id);
    }
    ops_[i]->bind(shared_params_);
  }
}

}  // namespace fastdnn
