// The plan as a graph: op i of a network with k inputs writes slot k + i from
// slots written before it (the list order is a topological order), and loss
// heads read slots. Here: the plan's checks, and what the backward needs from
// the graph: which ops run, which gradient writes add to another reader's (the
// first reader in backward order assigns, so a chain runs today's overwrite
// kernels only), and which heads may fuse softmax/sigmoid into their loss.
#pragma once
#include <memory>
#include <vector>

#include "engine/loss.h"
#include "engine/op.h"

namespace fastdnn {

// One model output: a slot, its loss (none: predicted, never trained) and the loss's weight.
struct HeadSpec {
  int slot = -1;  // -1: the last slot
  bool has_loss = true;
  LossSpec loss;
  double weight = 1.0;
};

// Gives every op its slots (no inputs: the previous slot; the output: inputs + i) and
// checks the plan: each input written before the op, the number of inputs each kind
// takes, `shares` naming an earlier op of the same kind, each head's slot. Throws
// std::invalid_argument naming the offending ops[i] / loss[h] entry.
void resolve_plan(std::vector<OpSpec>& ops, int inputs, std::vector<HeadSpec>& heads);

// The output width of ops[index] given its input widths, after checking a merge op's
// widths (equal, or for concatenate divisible by its blocks).
int64_t checked_output_width(const Op& op, int index);

// Whether head h may fuse the op writing its slot into its loss: the slot is read by
// nothing else (no op, no other head) and that op's input is read by that op only.
bool head_may_fuse(const std::vector<std::unique_ptr<Op>>& ops, int inputs, const std::vector<HeadSpec>& heads,
                   int h);

struct BackwardPlan {
  std::vector<bool> runs;              // per op: on a path to a loss (or a penalty), not fused into a loss
  std::vector<bool> head_accumulates;  // per head: its loss gradient adds to another head's
  std::vector<int> zeroed_slots;       // read by a running op's backward but written by no reader
  bool accumulates = false;            // some gradient write adds (the network needs scratch)
};

// head_grad_slots[h]: the slot head h's loss writes the gradient of (-1: no loss);
// fused[i]: op i's backward is part of a head's loss. Sets every op's `accumulate`.
BackwardPlan plan_backward(const std::vector<std::unique_ptr<Op>>& ops, int inputs,
                           const std::vector<int>& head_grad_slots, const std::vector<bool>& fused);

}  // namespace fastdnn
