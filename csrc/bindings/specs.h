// Python dicts → the engine's spec structs, with every value checked.
#pragma once
#include "bindings/checks.h"
#include "engine/network.h"

namespace fastdnn::bind {

// Reads 'activation' and its parameters (alpha, negative_slope, max_value,
// threshold, approximate) from `s`.
void read_activation(Settings& s, Activation* f, ActivationParams* p);

OpSpec parse_op(py::handle obj, int index);
// The op's place in the graph: 'inputs' (a list of slots), 'shares' (an earlier op's
// index), and 'blocks' for concatenate (specs_graph.cpp).
void read_graph_keys(Settings& s, OpSpec* op);
// `loss`: one loss dict (one head on the last slot), or a list of heads
// {'slot': s, 'loss': dict or None, 'weight': w} (specs_graph.cpp).
std::vector<HeadSpec> parse_heads(py::handle loss, bool* listed);
// `input_width`: an int (one input slot) or a list of ints, one per input slot.
std::vector<int64_t> parse_input_widths(py::handle input_width, bool* listed);
LossSpec parse_loss(py::handle obj);
OptimizerSpec parse_optimizer(py::handle obj);

}  // namespace fastdnn::bind
