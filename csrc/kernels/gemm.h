// One tile of a BLAS-shaped product, computed on the calling thread only.
//
//   C (m,n) = op(A)·op(B) + beta·C      op(A) is (m,k), op(B) is (k,n)
//
// Row-major buffers with leading dimensions (elements between rows): A is
// stored (m,k) with lda >= k, or (k,m) with lda >= m when a_transposed; B is
// stored (k,n) with ldb >= n, or (n,k) with ldb >= k when b_transposed; C is
// (m,n) with ldc >= n and must not overlap A or B. As in BLAS, beta == 0 means C
// is not read (whatever it holds, NaN included, is overwritten).
//
// Backends compute the same product with different instructions: results may
// differ between backends, never between thread counts (matmul.cpp gives each
// tile to one thread). matmul.cpp cuts the output into tiles and picks the backend.
#pragma once
#include <cstdint>

namespace fastdnn {

struct GemmTile {
  int64_t m, n, k;
  const float* a;
  int64_t lda;
  bool a_transposed;
  const float* b;
  int64_t ldb;
  bool b_transposed;
  float beta;
  float* c;
  int64_t ldc;
};

// Register-blocked AVX-512 microkernel over packed panels of B (gemm_avx512.cpp),
// for k >= 1 (matmul.cpp handles k == 0). Returns false, computing nothing,
// when the file was compiled without AVX-512. Its file is compiled for AVX-512
// even in portable builds (CMakeLists.txt), so call it only on a CPU that has
// it (matmul.cpp asks the CPU once).
bool gemm_avx512(const GemmTile& t);
bool gemm_avx512_compiled();

// The same with AVX2 and FMA, 6x16 blocks (gemm_avx2.cpp): for CPUs without
// AVX-512. Gives the AVX-512 kernel's bits. Same rules as gemm_avx512.
bool gemm_avx2(const GemmTile& t);
bool gemm_avx2_compiled();

// Eigen 3.4's single-threaded product (gemm_eigen.cpp): the portable fallback.
void gemm_eigen(const GemmTile& t);

// The plain triple loop (gemm_naive.cpp): the readable definition and the tests' oracle.
void gemm_naive(const GemmTile& t);

}  // namespace fastdnn
