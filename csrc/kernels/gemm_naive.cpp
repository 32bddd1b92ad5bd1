#include "kernels/gemm.h"

namespace fastdnn {

// c[i,j] = Σ_k op(A)[i,k]·op(B)[k,j] + beta·c[i,j], summed in k order.
void gemm_naive(const GemmTile& t) {
  for (int64_t i = 0; i < t.m; ++i) {
    for (int64_t j = 0; j < t.n; ++j) {
      float sum = 0.0f;
      for (int64_t p = 0; p < t.k; ++p) {
        const float a = t.a_transposed ? t.a[p * t.lda + i] : t.a[i * t.lda + p];
        const float b = t.b_transposed ? t.b[j * t.ldb + p] : t.b[p * t.ldb + j];
        sum += a * b;
      }
      float& c = t.c[i * t.ldc + j];
      c = t.beta == 0.0f ? sum : sum + t.beta * c;
    }
  }
}

}  // namespace fastdnn
