// Keras' weight constraints: projections applied to a weight after each
// optimizer step (variable.assign(constraint(variable))). No gradients: these
// are not part of the graph, so there is no backward.
#pragma once
#include <cstdint>

namespace fastdnn {

// Keras' backend.epsilon(), in the denominator of every norm constraint.
constexpr double kConstraintEpsilon = 1e-7;

// w ← max(w, 0)   (NonNeg)
void non_neg_constraint(float* w, int64_t n);

// w (rows, cols) row-major; ν = ‖w‖₂ over the rows of each column (axis 0) or over the
// columns of each row (axis 1); w ← w · d/(ε + ν), d = rate·clip(ν, min, max) + (1 − rate)·ν.
// MinMaxNorm; MaxNorm is (0, max, 1); UnitNorm is (1, 1, 1).
void min_max_norm_constraint(float* w, int64_t rows, int64_t cols, int axis, float min_value,
                             float max_value, float rate);

}  // namespace fastdnn
