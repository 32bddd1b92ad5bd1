// Keras' merging layers over n inputs of one batch (Add, Subtract, Multiply,
// Average, Maximum, Minimum, Concatenate), and the helper a DAG's backward needs
// where a tensor has several readers (its gradient is the sum of theirs).
//
// Every backward writes dx[k] for each input k: dx[k] = ... , or dx[k] += ...
// when accumulate[k] is set (another reader of that tensor wrote its gradient
// first; accumulate may be null: all assign). A null dx[k] is skipped (the
// network's inputs have no gradient). The same pointer may appear twice in dx
// (a layer reading one tensor twice), with accumulate set on the later one.
#pragma once
#include <cstdint>

namespace fastdnn {

// y = (x_0 + x_1 + … + x_{n−1}) / divisor   (Add: divisor 1; Average: divisor n), summed in input order
void merge_sum_forward(float* y, const float* const* x, int inputs, int64_t n, float divisor);
// dx_k = dy / divisor
void merge_sum_backward(float* const* dx, const bool* accumulate, const float* dy, int inputs, int64_t n,
                        float divisor);

// y = a − b
void merge_subtract_forward(float* y, const float* a, const float* b, int64_t n);
// da = dy, db = −dy   (dx = {da, db})
void merge_subtract_backward(float* const* dx, const bool* accumulate, const float* dy, int64_t n);

// y = x_0 · x_1 · … · x_{n−1}, multiplied in input order
void merge_multiply_forward(float* y, const float* const* x, int inputs, int64_t n);
// dx_k = dy · Π_{j≠k} x_j   (the product of the others, not y / x_k: x_k may be 0)
void merge_multiply_backward(float* const* dx, const bool* accumulate, const float* dy, const float* const* x,
                             int inputs, int64_t n);

// y = max_k x_k (maximum) or min_k x_k (minimum)
void merge_extreme_forward(float* y, const float* const* x, int inputs, int64_t n, bool maximum);
// dx_k = dy where k is the first input holding the extreme value (ties: the lowest k, as TF), else 0
void merge_extreme_backward(float* const* dx, const bool* accumulate, const float* dy, const float* const* x,
                            int inputs, int64_t n, bool maximum);

// Input k is (rows, blocks, widths[k]/blocks); y (rows, blocks, Σ_k widths[k]/blocks) concatenates
// them along the last axis: y[r, b, :] = [x_0[r, b, :], x_1[r, b, :], …]. Every widths[k] % blocks == 0.
void concatenate_forward(float* y, const float* const* x, const int64_t* widths, int inputs, int64_t rows,
                         int64_t blocks);
// dx_k[r, b, :] = dy[r, b, the columns of input k]
void concatenate_backward(float* const* dx, const bool* accumulate, const float* dy, const int64_t* widths,
                          int inputs, int64_t rows, int64_t blocks);

// y += x   (a tensor's gradient: the sum over its readers)
void accumulate_into(float* y, const float* x, int64_t n);

}  // namespace fastdnn
