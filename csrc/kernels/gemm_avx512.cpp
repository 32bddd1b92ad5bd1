// The AVX-512 tile product: BLIS's loop nest, llamafile-tinyBLAS-sized.
//
// The output tile is swept in panels of 32 columns (two zmm registers wide) and
// blocks of up to 8 rows: the microkernel keeps that 8x32 block of C in 16 zmm
// accumulators and, for each k, adds the outer product of 8 elements of op(A)
// (broadcast straight from A, which is never packed: any layout broadcasts) and
// one row of the B panel (two aligned loads). B is packed once per panel and
// depth block, k-major and zero-padded, whatever its layout, so a transposed B
// costs one transposition per element and the inner loop never sees a stride.
//
// Every element of C is one chain of FMAs in k order starting from beta·c: the
// blocking (depth blocks, panels, row blocks, tiles) decides only when the
// chain pauses in memory, never its rounding, so results do not depend on the
// tiling, and so on the thread count.
#include "kernels/gemm.h"

#if defined(__AVX512F__)
#include <immintrin.h>
// GCC 12's avx512fintrin.h starts its shuffles from _mm512_undefined_ps(), which
// -Wmaybe-uninitialized reports at every use: a known false positive.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace fastdnn {

#if defined(__AVX512F__)

namespace {

constexpr int kRows = 8;         // rows of C per microkernel call
constexpr int kPanel = 32;       // columns of C per panel: two zmm of 16 floats
constexpr int64_t kDepth = 256;  // k per packed panel: 256 x 32 floats = 32 KB, streamed from L1/L2

using Micro = void (*)(int64_t kc, const float* a, int64_t lda, const float* panel, float* c, int64_t ldc,
                       float beta, __mmask16 last_columns);

// c[0:R, 0:16·V] = beta·c + Σ_p a(r,p)·panel[p, :]   a(r,p) = a[p·lda + r] when A is
// transposed, a[r·lda + p] otherwise; the last zmm of each row is masked to last_columns.
template <int R, int V, bool kATransposed>
void micro(int64_t kc, const float* a, int64_t lda, const float* panel, float* c, int64_t ldc, float beta,
           __mmask16 last_columns) {
  constexpr int stride = 16 * V;
  __m512 acc[R][V];
  for (int r = 0; r < R; ++r) {
    for (int v = 0; v < V; ++v) {
      const __mmask16 mask = v == V - 1 ? last_columns : __mmask16(0xFFFF);
      if (beta == 0.0f) {
        acc[r][v] = _mm512_setzero_ps();
      } else {
        const __m512 old = _mm512_maskz_loadu_ps(mask, c + r * ldc + 16 * v);
        acc[r][v] = beta == 1.0f ? old : _mm512_mul_ps(_mm512_set1_ps(beta), old);
      }
    }
  }
  const float* rows[R];
  for (int r = 0; r < R; ++r) rows[r] = kATransposed ? a + r : a + r * lda;
  const int64_t step = kATransposed ? lda : 1;
  for (int64_t p = 0; p < kc; ++p) {
    __m512 b[V];
    for (int v = 0; v < V; ++v) b[v] = _mm512_load_ps(panel + p * stride + 16 * v);
    for (int r = 0; r < R; ++r) {
      const __m512 ar = _mm512_set1_ps(rows[r][p * step]);
      for (int v = 0; v < V; ++v) acc[r][v] = _mm512_fmadd_ps(ar, b[v], acc[r][v]);
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int v = 0; v < V; ++v) {
      const __mmask16 mask = v == V - 1 ? last_columns : __mmask16(0xFFFF);
      _mm512_mask_storeu_ps(c + r * ldc + 16 * v, mask, acc[r][v]);
    }
  }
}

template <int V, bool kATransposed>
Micro micro_for(int rows) {
  static constexpr Micro table[kRows] = {
      &micro<1, V, kATransposed>, &micro<2, V, kATransposed>, &micro<3, V, kATransposed>,
      &micro<4, V, kATransposed>, &micro<5, V, kATransposed>, &micro<6, V, kATransposed>,
      &micro<7, V, kATransposed>, &micro<8, V, kATransposed>};
  return table[rows - 1];
}

Micro micro_for(int rows, int vectors, bool a_transposed) {
  if (vectors == 2) return a_transposed ? micro_for<2, true>(rows) : micro_for<2, false>(rows);
  return a_transposed ? micro_for<1, true>(rows) : micro_for<1, false>(rows);
}

__mmask16 first_lanes(int64_t count) { return count >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << count) - 1); }

// out[c][r] = in[r][c] for a 16x16 block: 32-bit, 64-bit, then 128-bit interleaves.
void transpose16(const __m512 in[16], __m512 out[16]) {
  __m512 pairs[16], quads[16];
  for (int i = 0; i < 8; ++i) {
    pairs[2 * i] = _mm512_unpacklo_ps(in[2 * i], in[2 * i + 1]);
    pairs[2 * i + 1] = _mm512_unpackhi_ps(in[2 * i], in[2 * i + 1]);
  }
  auto as_pd = [](__m512 x) { return _mm512_castps_pd(x); };
  for (int g = 0; g < 4; ++g) {  // quads[4g + c], 128-bit lane l: column 4l + c of rows 4g..4g+3
    const __m512* p = pairs + 4 * g;
    quads[4 * g + 0] = _mm512_castpd_ps(_mm512_unpacklo_pd(as_pd(p[0]), as_pd(p[2])));
    quads[4 * g + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(as_pd(p[0]), as_pd(p[2])));
    quads[4 * g + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(as_pd(p[1]), as_pd(p[3])));
    quads[4 * g + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(as_pd(p[1]), as_pd(p[3])));
  }
  for (int c = 0; c < 4; ++c) {  // gather lane l of column 4l + c from the four row groups
    const __m512 even01 = _mm512_shuffle_f32x4(quads[c], quads[4 + c], 0x88);
    const __m512 odd01 = _mm512_shuffle_f32x4(quads[c], quads[4 + c], 0xDD);
    const __m512 even23 = _mm512_shuffle_f32x4(quads[8 + c], quads[12 + c], 0x88);
    const __m512 odd23 = _mm512_shuffle_f32x4(quads[8 + c], quads[12 + c], 0xDD);
    out[c] = _mm512_shuffle_f32x4(even01, even23, 0x88);
    out[8 + c] = _mm512_shuffle_f32x4(even01, even23, 0xDD);
    out[4 + c] = _mm512_shuffle_f32x4(odd01, odd23, 0x88);
    out[12 + c] = _mm512_shuffle_f32x4(odd01, odd23, 0xDD);
  }
}

// panel[p·stride + j] = op(B)[k0 + p, j0 + j] for p < kc, j < width; 0 for width <= j < stride.
void pack_panel(float* panel, const GemmTile& t, int64_t k0, int64_t kc, int64_t j0, int64_t width, int stride) {
  if (!t.b_transposed) {
    for (int64_t p = 0; p < kc; ++p) {
      const float* row = t.b + (k0 + p) * t.ldb + j0;
      for (int v = 0; v < stride / 16; ++v) {
        const __mmask16 mask = first_lanes(width - 16 * v);
        _mm512_store_ps(panel + p * stride + 16 * v, _mm512_maskz_loadu_ps(mask, row + 16 * v));
      }
    }
    return;
  }
  // B is stored (n, k): column j of op(B) is row j0 + j of B, transposed 16x16 at a time.
  for (int64_t jb = 0; jb < stride; jb += 16) {
    for (int64_t pb = 0; pb < kc; pb += 16) {
      const __mmask16 depth = first_lanes(kc - pb);
      __m512 rows[16], columns[16];
      for (int r = 0; r < 16; ++r) {
        rows[r] = jb + r < width ? _mm512_maskz_loadu_ps(depth, t.b + (j0 + jb + r) * t.ldb + k0 + pb)
                                 : _mm512_setzero_ps();
      }
      transpose16(rows, columns);
      for (int64_t q = 0; q < 16 && pb + q < kc; ++q) _mm512_store_ps(panel + (pb + q) * stride + jb, columns[q]);
    }
  }
}

}  // namespace

bool gemm_avx512(const GemmTile& t) {
  alignas(64) static thread_local float panel[kDepth * kPanel];
  for (int64_t k0 = 0; k0 < t.k; k0 += kDepth) {
    const int64_t kc = t.k - k0 < kDepth ? t.k - k0 : kDepth;
    const float beta = k0 == 0 ? t.beta : 1.0f;  // later depth blocks continue the chains in C
    for (int64_t j0 = 0; j0 < t.n; j0 += kPanel) {
      const int64_t width = t.n - j0 < kPanel ? t.n - j0 : kPanel;
      const int vectors = width > 16 ? 2 : 1;
      const __mmask16 last_columns = first_lanes(width - 16 * (vectors - 1));
      pack_panel(panel, t, k0, kc, j0, width, 16 * vectors);
      for (int64_t i0 = 0; i0 < t.m; i0 += kRows) {
        const int rows = int(t.m - i0 < kRows ? t.m - i0 : kRows);
        const float* a = t.a_transposed ? t.a + k0 * t.lda + i0 : t.a + i0 * t.lda + k0;
        micro_for(rows, vectors, t.a_transposed)(kc, a, t.lda, panel, t.c + i0 * t.ldc + j0, t.ldc, beta,
                                                 last_columns);
      }
    }
  }
  return true;
}

bool gemm_avx512_compiled() { return true; }

#else

bool gemm_avx512(const GemmTile&) { return false; }
bool gemm_avx512_compiled() { return false; }

#endif

}  // namespace fastdnn
