// Python dicts → the engine's spec structs, with every value checked.
#pragma once
#include "bindings/checks.h"
#include "engine/network.h"

namespace fastdnn::bind {

// Reads 'activation' and its parameters (alpha, negative_slope, max_value,
// threshold, approximate) from `s`.
void read_activation(Settings& s, Activation* f, ActivationParams* p);

OpSpec parse_op(py::handle obj, int index);
LossSpec parse_loss(py::handle obj);
OptimizerSpec parse_optimizer(py::handle obj);

}  // namespace fastdnn::bind
