#include <Eigen/Core>

#include "kernels/gemm.h"

namespace fastdnn {

namespace {

using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatMap = Eigen::Map<RowMajor, 0, Eigen::OuterStride<>>;
using ConstMatMap = Eigen::Map<const RowMajor, 0, Eigen::OuterStride<>>;

// c = beta·c + a·b, with Eigen's product written straight into c.
template <class A, class B>
void accumulate(MatMap& c, const A& a, const B& b, float beta) {
  if (beta == 0.0f) {
    c.noalias() = a * b;
    return;
  }
  if (beta != 1.0f) c *= beta;
  c.noalias() += a * b;
}

}  // namespace

// c = op(A)·op(B) + beta·c through Eigen's single-threaded product.
void gemm_eigen(const GemmTile& t) {
  MatMap c(t.c, t.m, t.n, Eigen::OuterStride<>(t.ldc));
  const ConstMatMap a(t.a, t.a_transposed ? t.k : t.m, t.a_transposed ? t.m : t.k, Eigen::OuterStride<>(t.lda));
  const ConstMatMap b(t.b, t.b_transposed ? t.n : t.k, t.b_transposed ? t.k : t.n, Eigen::OuterStride<>(t.ldb));
  if (!t.a_transposed && !t.b_transposed) {
    accumulate(c, a, b, t.beta);
  } else if (!t.a_transposed) {
    accumulate(c, a, b.transpose(), t.beta);
  } else if (!t.b_transposed) {
    accumulate(c, a.transpose(), b, t.beta);
  } else {
    accumulate(c, a.transpose(), b.transpose(), t.beta);
  }
}

}  // namespace fastdnn
