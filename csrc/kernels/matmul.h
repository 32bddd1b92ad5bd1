// Matrix products over row-major float32 buffers.
#pragma once
#include <cstdint>

namespace fastdnn {

// C (M,N) = op(A) · op(B), where op(A) is (M,K) and op(B) is (K,N).
// A is stored (M,K), or (K,M) when a_transposed; B is stored (K,N), or (N,K)
// when b_transposed. C is overwritten and must not alias A or B.
void matmul(float* C, const float* A, const float* B, int64_t M, int64_t N, int64_t K,
            bool a_transposed, bool b_transposed);

// The plain triple loop, kept as the readable definition and the tests' oracle.
void matmul_naive(float* C, const float* A, const float* B, int64_t M, int64_t N, int64_t K,
                  bool a_transposed, bool b_transposed);

}  // namespace fastdnn
