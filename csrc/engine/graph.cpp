#include "engine/graph.h"

#include <stdexcept>
#include <string>

namespace fastdnn {

namespace {

std::string op_name(int i, const char* key) { return "ops[" + std::to_string(i) + "]['" + key + "']"; }

std::string widths_list(const std::vector<int64_t>& widths) {
  std::string s;
  for (int64_t w : widths) s += (s.empty() ? "" : ", ") + std::to_string(w);
  return s;
}

}  // namespace

void resolve_plan(std::vector<OpSpec>& ops, int inputs, std::vector<HeadSpec>& heads) {
  for (int i = 0; i < int(ops.size()); ++i) {
    OpSpec& s = ops[size_t(i)];
    const int output = inputs + i;
    if (s.inputs.empty()) {
      if (is_merge(s.kind)) throw std::invalid_argument(op_name(i, "inputs") + " is required for a merge op");
      s.inputs = {output - 1};
    }
    for (size_t m = 0; m < s.inputs.size(); ++m) {
      const int slot = s.inputs[m];
      if (slot < 0 || slot >= output) {
        throw std::invalid_argument(op_name(i, "inputs") + "[" + std::to_string(m) + "] = " + std::to_string(slot) +
                                    ": op " + std::to_string(i) + " may read only slots 0 .. " +
                                    std::to_string(output - 1) + " (the network's " + std::to_string(inputs) +
                                    " inputs and the outputs of the ops before it)");
      }
    }
    const size_t n = s.inputs.size();
    if (s.kind == OpKind::Subtract && n != 2) {
      throw std::invalid_argument(op_name(i, "inputs") + ": subtract takes exactly 2 inputs; got " + std::to_string(n));
    }
    if (!is_merge(s.kind) && n != 1) {
      throw std::invalid_argument(op_name(i, "inputs") + " must list exactly one slot for this op kind; got " +
                                  std::to_string(n));
    }
    if (s.shares >= 0) {
      if (s.shares >= i) {
        throw std::invalid_argument(op_name(i, "shares") + " = " + std::to_string(s.shares) +
                                    ": an op can share the parameters of an earlier op only (0 .. " +
                                    std::to_string(i - 1) + ")");
      }
      if (ops[size_t(s.shares)].kind != s.kind) {
        throw std::invalid_argument(op_name(i, "shares") + " = " + std::to_string(s.shares) + ": op " +
                                    std::to_string(s.shares) + " is of another kind");
      }
      // Sharing an op that shares: the parameters' owner.
      if (ops[size_t(s.shares)].shares >= 0) s.shares = ops[size_t(s.shares)].shares;
    }
    s.input = s.inputs[0];
    s.output = output;
  }
  const int slots = inputs + int(ops.size());
  for (size_t h = 0; h < heads.size(); ++h) {
    HeadSpec& head = heads[h];
    if (head.slot == -1) head.slot = slots - 1;
    if (head.slot < 0 || head.slot >= slots) {
      throw std::invalid_argument("loss[" + std::to_string(h) + "]['slot'] = " + std::to_string(head.slot) +
                                  " is not a slot of the network (0 .. " + std::to_string(slots - 1) + ")");
    }
  }
}

int64_t checked_output_width(const Op& op, int index) {
  const std::vector<int64_t>& w = op.in_widths;
  if (op.spec.kind == OpKind::Concatenate) {
    if (op.spec.blocks < 1) throw std::invalid_argument(op_name(index, "blocks") + " must be >= 1");
    for (int64_t width : w) {
      if (width % op.spec.blocks != 0) {
        throw std::invalid_argument(op_name(index, "inputs") + ": concatenate over " +
                                    std::to_string(op.spec.blocks) + " blocks needs input widths divisible by " +
                                    std::to_string(op.spec.blocks) + "; got widths " + widths_list(w));
      }
    }
  } else if (is_merge(op.spec.kind)) {
    for (int64_t width : w) {
      if (width != w[0]) {
        throw std::invalid_argument(op_name(index, "inputs") +
                                    ": an elementwise merge needs inputs of equal width (no broadcasting); got widths " +
                                    widths_list(w));
      }
    }
  }
  return op.merged_width(w);
}

bool head_may_fuse(const std::vector<std::unique_ptr<Op>>& ops, int inputs, const std::vector<HeadSpec>& heads,
                   int h) {
  const int slot = heads[size_t(h)].slot;
  if (slot < inputs) return false;
  const int source = ops[size_t(slot - inputs)]->spec.input;
  int slot_readers = 0, source_readers = 0;
  for (const auto& op : ops) {
    for (int s : op->spec.inputs) {
      slot_readers += s == slot;
      source_readers += s == source;
    }
  }
  for (const HeadSpec& head : heads) {
    slot_readers += head.slot == slot;
    source_readers += head.slot == source;
  }
  return slot_readers == 1 && source_readers == 1;
}

BackwardPlan plan_backward(const std::vector<std::unique_ptr<Op>>& ops, int inputs,
                           const std::vector<int>& head_grad_slots, const std::vector<bool>& fused) {
  const int n = int(ops.size()), slots = inputs + n;
  BackwardPlan plan;
  // Which ops' backward matters: those whose output's gradient a loss reaches, and the
  // activity regularizers (their penalty has a gradient of its own).
  std::vector<bool> needed(size_t(slots), false);
  for (int g : head_grad_slots) {
    if (g >= 0) needed[size_t(g)] = true;
  }
  plan.runs.assign(size_t(n), false);
  for (int i = n - 1; i >= 0; --i) {
    const OpSpec& s = ops[size_t(i)]->spec;
    const bool penalized = s.kind == OpKind::ActivityRegularization;
    if (fused[size_t(i)] || !(needed[size_t(s.output)] || penalized)) continue;
    plan.runs[size_t(i)] = true;
    for (int slot : s.inputs) needed[size_t(slot)] = true;
  }
  // Gradient writes in backward order (the heads, then the ops from the last): the
  // first write to a slot assigns, the later ones add.
  std::vector<bool> written(size_t(slots), false);
  for (int g : head_grad_slots) {
    const bool has_gradient = g >= inputs;
    plan.head_accumulates.push_back(has_gradient && written[size_t(g)]);
    if (has_gradient) written[size_t(g)] = true;
  }
  for (int i = n - 1; i >= 0; --i) {
    Op& op = *ops[size_t(i)];
    op.accumulate = std::make_unique<bool[]>(op.spec.inputs.size());
    if (!plan.runs[size_t(i)]) continue;
    // Every reader of this op's output has been seen: none wrote its gradient.
    if (!written[size_t(op.spec.output)]) plan.zeroed_slots.push_back(op.spec.output);
    for (size_t m = 0; m < op.spec.inputs.size(); ++m) {
      const int slot = op.spec.inputs[m];
      if (slot < inputs) continue;  // the network's inputs have no gradient
      op.accumulate[m] = written[size_t(slot)];
      written[size_t(slot)] = true;
    }
  }
  for (bool a : plan.head_accumulates) plan.accumulates = plan.accumulates || a;
  for (int i = 0; i < n; ++i) {
    for (size_t m = 0; m < ops[size_t(i)]->spec.inputs.size(); ++m) {
      plan.accumulates = plan.accumulates || ops[size_t(i)]->accumulate[m];
    }
  }
  return plan;
}

}  // namespace fastdnn
