#include "kernels/matmul.h"

#include <algorithm>

#include "kernels/gemm.h"
#include "kernels/parallel.h"

namespace fastdnn {

namespace {

// Products from this many multiply-adds up (~10 us on one core) are cut in
// two tiles, so that a second thread can take half (the pool hands a chunk
// over in well under a microsecond) -- if they also do at least
// kMinSplitIntensity multiply-adds per float of A, B and C: the second core
// must first fetch its operands from the first one's cache, and the first
// then its half of C. Measured through fit at 1 and 2 threads: W2/W4's
// products (40-54 per float) ran 1.3-1.5x faster on two, while splitting
// W1's batch-32 products (20-24 per float) made the step 8% slower.
constexpr int64_t kMinSplitWork = int64_t(1) << 20;
constexpr int64_t kMinSplitIntensity = 32;
// Beyond two, a tile gets at least this many multiply-adds (~40 us on one core).
constexpr int64_t kMinTileWork = int64_t(1) << 22;
// Few, large tiles: each tile packs its own panels of B, and measured with
// Eigen on a 1024x784 by 784x1000 product, 64 tiles ran 25% slower than 1 to 8.
// The pool hands tiles out one at a time, so 8 still balance 2 or 4 threads.
constexpr int64_t kMaxTiles = 8;

// How the output is cut into tiles: a function of the shapes only (see parallel.h).
// Rows are split first (each tile then reuses all of B's packed panels), columns
// when M is short.
struct Tiling {
  int64_t row_tiles = 1, col_tiles = 1;
};

Tiling choose_tiling(int64_t M, int64_t N, int64_t K) {
  const int64_t work = M * N * K;
  const bool worth_a_second_core = work >= kMinSplitWork && work >= kMinSplitIntensity * (M * K + K * N + M * N);
  int64_t tiles = worth_a_second_core ? 2 : 1;  // a power of two, so that 2 or 4 threads share them evenly
  while (tiles < kMaxTiles && work >= 2 * tiles * kMinTileWork) tiles *= 2;
  Tiling t;
  while (t.row_tiles < tiles && M >= 128 * t.row_tiles) t.row_tiles *= 2;  // >= 64 rows each
  t.col_tiles = std::min(tiles / t.row_tiles, std::max<int64_t>(1, N / 32));  // >= ~32 columns each
  return t;
}

// [begin, end) of part `i` of `parts` over `n`: the blocks of `align` are
// shared out as evenly as they go (100 columns in two: 48 + 52, not 64 + 36).
void split(int64_t n, int64_t parts, int64_t i, int64_t align, int64_t* begin, int64_t* end) {
  const int64_t blocks = (n + align - 1) / align;
  *begin = std::min(n, blocks * i / parts * align);
  *end = std::min(n, blocks * (i + 1) / parts * align);
}

// The SIMD kernels this build has and this CPU runs, asked once (the CPU first:
// in a portable build even gemm_*_compiled() is code compiled for that ISA).
bool avx512_runs() {
  static const bool runs = __builtin_cpu_supports("avx512f") && gemm_avx512_compiled();
  return runs;
}

bool avx2_runs() {
  static const bool runs = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && gemm_avx2_compiled();
  return runs;
}

void gemm_tile(const GemmTile& t, GemmBackend backend) {
  if (backend == GemmBackend::fastest) {
    backend = avx512_runs() ? GemmBackend::avx512 : avx2_runs() ? GemmBackend::avx2 : GemmBackend::eigen;
  }
  switch (backend) {
    case GemmBackend::naive:
      gemm_naive(t);
      return;
    case GemmBackend::avx512:
      if (avx512_runs() && gemm_avx512(t)) return;
      break;
    case GemmBackend::avx2:
      if (avx2_runs() && gemm_avx2(t)) return;
      break;
    default:
      break;
  }
  gemm_eigen(t);
}

}  // namespace

bool gemm_backend_available(GemmBackend backend) {
  if (backend == GemmBackend::avx512) return avx512_runs();
  if (backend == GemmBackend::avx2) return avx2_runs();
  return true;
}

void gemm(bool a_transposed, bool b_transposed, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
          const float* B, int64_t ldb, float beta, float* C, int64_t ldc, GemmBackend backend) {
  if (M == 0 || N == 0) return;
  if (K == 0) {  // an empty sum: C = beta·C
    for (int64_t i = 0; i < M; ++i) {
      float* row = C + i * ldc;
      for (int64_t j = 0; j < N; ++j) row[j] = beta == 0.0f ? 0.0f : beta * row[j];
    }
    return;
  }
  const Tiling tiling = choose_tiling(M, N, K);
  parallel_for(tiling.row_tiles * tiling.col_tiles, [&](int64_t tile) {
    int64_t m0, m1, n0, n1;
    split(M, tiling.row_tiles, tile / tiling.col_tiles, 8, &m0, &m1);
    split(N, tiling.col_tiles, tile % tiling.col_tiles, 32, &n0, &n1);
    if (m0 >= m1 || n0 >= n1) return;
    const GemmTile t{m1 - m0,
                     n1 - n0,
                     K,
                     a_transposed ? A + m0 : A + m0 * lda,
                     lda,
                     a_transposed,
                     b_transposed ? B + n0 * ldb : B + n0,
                     ldb,
                     b_transposed,
                     beta,
                     C + m0 * ldc + n0,
                     ldc};
    gemm_tile(t, backend);
  });
}

void matmul(float* C, const float* A, const float* B, int64_t M, int64_t N, int64_t K,
            bool a_transposed, bool b_transposed) {
  gemm(a_transposed, b_transposed, M, N, K, A, a_transposed ? M : K, B, b_transposed ? K : N, 0.0f, C, N);
}

void matmul_naive(float* C, const float* A, const float* B, int64_t M, int64_t N, int64_t K,
                  bool a_transposed, bool b_transposed) {
  gemm(a_transposed, b_transposed, M, N, K, A, a_transposed ? M : K, B, b_transposed ? K : N, 0.0f, C, N,
       GemmBackend::naive);
}

}  // namespace fastdnn
