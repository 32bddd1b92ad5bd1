// The AVX2/FMA tile product, for CPUs without AVX-512: gemm_avx512.cpp's loop
// nest and packing with ymm registers. AVX2 has 16 vector registers, so the
// microkernel keeps a 6x16 block of C in 12 ymm accumulators (BLIS's Haswell
// shape) and packs B in 16-column panels. Every element of C is one chain of
// FMAs in k order from beta·c, as in the AVX-512 kernel, so the two give the
// same bits.
#include "kernels/gemm.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

namespace fastdnn {

#if defined(__AVX2__) && defined(__FMA__)

namespace {

constexpr int kRows = 6;         // rows of C per microkernel call
constexpr int kPanel = 16;       // columns of C per panel: two ymm of 8 floats
constexpr int64_t kDepth = 256;  // k per packed panel: 256 x 16 floats = 16 KB, half of L1

using Micro = void (*)(int64_t kc, const float* a, int64_t lda, const float* panel, float* c, int64_t ldc,
                       float beta, int64_t last_width);

// All-ones in the first `count` lanes (count clipped to [0, 8]), for maskload/maskstore.
__m256i first_lanes(int64_t count) {
  const int lanes = count < 0 ? 0 : count > 8 ? 8 : int(count);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(lanes), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// c[0:R, 0:8·V] = beta·c + Σ_p a(r,p)·panel[p, :]   a(r,p) = a[p·lda + r] when A is
// transposed, a[r·lda + p] otherwise; the last ymm of each row holds last_width columns.
// The masks are rebuilt after the loop, not kept: the loop needs 15 of the 16 ymm registers.
// The unroll pragmas make GCC 12 unroll before it places acc: without them it kept acc in
// memory and stored all 12 accumulators on every k (measured half the speed).
template <int R, int V, bool kATransposed>
void micro(int64_t kc, const float* a, int64_t lda, const float* panel, float* c, int64_t ldc, float beta,
           int64_t last_width) {
  constexpr int stride = 8 * V;
  __m256 acc[R][V];
  _Pragma("GCC unroll 8") for (int r = 0; r < R; ++r) {
    _Pragma("GCC unroll 8") for (int v = 0; v < V; ++v) {
      if (beta == 0.0f) {
        acc[r][v] = _mm256_setzero_ps();
      } else {
        const __m256 old = _mm256_maskload_ps(c + r * ldc + 8 * v, first_lanes(v == V - 1 ? last_width : 8));
        acc[r][v] = beta == 1.0f ? old : _mm256_mul_ps(_mm256_set1_ps(beta), old);
      }
    }
  }
  const float* rows[R];
  _Pragma("GCC unroll 8") for (int r = 0; r < R; ++r) rows[r] = kATransposed ? a + r : a + r * lda;
  const int64_t step = kATransposed ? lda : 1;
  for (int64_t p = 0; p < kc; ++p) {
    __m256 b[V];
    _Pragma("GCC unroll 8") for (int v = 0; v < V; ++v) b[v] = _mm256_load_ps(panel + p * stride + 8 * v);
    _Pragma("GCC unroll 8") for (int r = 0; r < R; ++r) {
      const __m256 ar = _mm256_broadcast_ss(rows[r] + p * step);
      _Pragma("GCC unroll 8") for (int v = 0; v < V; ++v) acc[r][v] = _mm256_fmadd_ps(ar, b[v], acc[r][v]);
    }
  }
  const __m256i last_columns = first_lanes(last_width), all = first_lanes(8);
  _Pragma("GCC unroll 8") for (int r = 0; r < R; ++r) {
    _Pragma("GCC unroll 8") for (int v = 0; v < V; ++v) _mm256_maskstore_ps(c + r * ldc + 8 * v, v == V - 1 ? last_columns : all, acc[r][v]);
  }
}

template <int V, bool kATransposed>
Micro micro_for(int rows) {
  static constexpr Micro table[kRows] = {&micro<1, V, kATransposed>, &micro<2, V, kATransposed>,
                                         &micro<3, V, kATransposed>, &micro<4, V, kATransposed>,
                                         &micro<5, V, kATransposed>, &micro<6, V, kATransposed>};
  return table[rows - 1];
}

Micro micro_for(int rows, int vectors, bool a_transposed) {
  if (vectors == 2) return a_transposed ? micro_for<2, true>(rows) : micro_for<2, false>(rows);
  return a_transposed ? micro_for<1, true>(rows) : micro_for<1, false>(rows);
}

// out[c][r] = in[r][c] for an 8x8 block: 32-bit and 64-bit interleaves within
// 128-bit lanes, then the lanes.
void transpose8(const __m256 in[8], __m256 out[8]) {
  __m256 pairs[8], quads[8];
  for (int i = 0; i < 4; ++i) {
    pairs[2 * i] = _mm256_unpacklo_ps(in[2 * i], in[2 * i + 1]);
    pairs[2 * i + 1] = _mm256_unpackhi_ps(in[2 * i], in[2 * i + 1]);
  }
  for (int g = 0; g < 2; ++g) {  // quads[4g + j], lane l: column 4l + j of rows 4g..4g+3
    const __m256* p = pairs + 4 * g;
    quads[4 * g + 0] = _mm256_shuffle_ps(p[0], p[2], 0x44);
    quads[4 * g + 1] = _mm256_shuffle_ps(p[0], p[2], 0xEE);
    quads[4 * g + 2] = _mm256_shuffle_ps(p[1], p[3], 0x44);
    quads[4 * g + 3] = _mm256_shuffle_ps(p[1], p[3], 0xEE);
  }
  for (int j = 0; j < 4; ++j) {
    out[j] = _mm256_permute2f128_ps(quads[j], quads[4 + j], 0x20);
    out[4 + j] = _mm256_permute2f128_ps(quads[j], quads[4 + j], 0x31);
  }
}

// panel[p·stride + j] = op(B)[k0 + p, j0 + j] for p < kc, j < width; 0 for width <= j < stride.
void pack_panel(float* panel, const GemmTile& t, int64_t k0, int64_t kc, int64_t j0, int64_t width, int stride) {
  if (!t.b_transposed) {
    for (int64_t p = 0; p < kc; ++p) {
      const float* row = t.b + (k0 + p) * t.ldb + j0;
      for (int v = 0; v < stride / 8; ++v) {
        _mm256_store_ps(panel + p * stride + 8 * v, _mm256_maskload_ps(row + 8 * v, first_lanes(width - 8 * v)));
      }
    }
    return;
  }
  // B is stored (n, k): column j of op(B) is row j0 + j of B, transposed 8x8 at a time.
  for (int64_t jb = 0; jb < stride; jb += 8) {
    for (int64_t pb = 0; pb < kc; pb += 8) {
      const __m256i depth = first_lanes(kc - pb);
      __m256 rows[8], columns[8];
      for (int r = 0; r < 8; ++r) {
        rows[r] = jb + r < width ? _mm256_maskload_ps(t.b + (j0 + jb + r) * t.ldb + k0 + pb, depth)
                                 : _mm256_setzero_ps();
      }
      transpose8(rows, columns);
      for (int64_t q = 0; q < 8 && pb + q < kc; ++q) _mm256_store_ps(panel + (pb + q) * stride + jb, columns[q]);
    }
  }
}

}  // namespace

bool gemm_avx2(const GemmTile& t) {
  alignas(32) static thread_local float panel[kDepth * kPanel];
  for (int64_t k0 = 0; k0 < t.k; k0 += kDepth) {
    const int64_t kc = t.k - k0 < kDepth ? t.k - k0 : kDepth;
    const float beta = k0 == 0 ? t.beta : 1.0f;  // later depth blocks continue the chains in C
    for (int64_t j0 = 0; j0 < t.n; j0 += kPanel) {
      const int64_t width = t.n - j0 < kPanel ? t.n - j0 : kPanel;
      const int vectors = width > 8 ? 2 : 1;
      pack_panel(panel, t, k0, kc, j0, width, 8 * vectors);
      for (int64_t i0 = 0; i0 < t.m; i0 += kRows) {
        const int rows = int(t.m - i0 < kRows ? t.m - i0 : kRows);
        const float* a = t.a_transposed ? t.a + k0 * t.lda + i0 : t.a + i0 * t.lda + k0;
        micro_for(rows, vectors, t.a_transposed)(kc, a, t.lda, panel, t.c + i0 * t.ldc + j0, t.ldc, beta,
                                                 width - 8 * (vectors - 1));
      }
    }
  }
  return true;
}

bool gemm_avx2_compiled() { return true; }

#else

bool gemm_avx2(const GemmTile&) { return false; }
bool gemm_avx2_compiled() { return false; }

#endif

}  // namespace fastdnn
