// Matrix products over row-major float32 buffers.
#pragma once
#include <cstdint>

namespace fastdnn {

// What computes each tile (gemm.h). `fastest` is the first of AVX-512, AVX2
// and Eigen that both the build and the CPU have; the others exist for the
// tests and benchmarks.
enum class GemmBackend { fastest, avx512, avx2, eigen, naive };

// True when this build on this CPU can run `backend` (avx512, avx2: when both have it).
bool gemm_backend_available(GemmBackend backend);

// C (M,N) = op(A)·op(B) + beta·C, BLAS's sgemm on row-major buffers: A is
// stored (M,K) with lda >= K, or (K,M) with lda >= M when a_transposed; B is
// stored (K,N) with ldb >= N, or (N,K) with ldb >= K when b_transposed; C has
// ldc >= N and must not overlap A or B. beta == 0: C is only written.
// The output is cut into tiles by the shapes alone, each computed whole by one
// thread, so the result does not depend on the thread count.
void gemm(bool a_transposed, bool b_transposed, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
          const float* B, int64_t ldb, float beta, float* C, int64_t ldc,
          GemmBackend backend = GemmBackend::fastest);

// C (M,N) = op(A) · op(B), where op(A) is (M,K) and op(B) is (K,N).
// A is stored (M,K), or (K,M) when a_transposed; B is stored (K,N), or (N,K)
// when b_transposed. C is overwritten and must not alias A or B.
void matmul(float* C, const float* A, const float* B, int64_t M, int64_t N, int64_t K,
            bool a_transposed, bool b_transposed);

// The plain triple loop, kept as the readable definition and the tests' oracle.
void matmul_naive(float* C, const float* A, const float* B, int64_t M, int64_t N, int64_t K,
                  bool a_transposed, bool b_transposed);

}  // namespace fastdnn
