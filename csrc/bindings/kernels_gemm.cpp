// fastdnn._core.kernels.matmul and .gemm: the matrix product on NumPy arrays,
// with a choice of tile backend for the tests and benchmarks.
#include <map>
#include <string>

#include "bindings/checks.h"
#include "kernels/matmul.h"

namespace fastdnn::bind {

namespace {

using py::arg;

GemmBackend backend_named(const std::string& name) {
  static const std::map<std::string, GemmBackend> backends = {
      {"fastest", GemmBackend::fastest},
      {"avx512", GemmBackend::avx512},
      {"avx2", GemmBackend::avx2},
      {"eigen", GemmBackend::eigen},
      {"naive", GemmBackend::naive},
  };
  const auto found = backends.find(name);
  if (found == backends.end()) {
    throw py::value_error("backend must be one of 'fastest', 'avx512', 'avx2', 'eigen', 'naive'; got '" + name + "'");
  }
  if (!gemm_backend_available(found->second)) {
    throw py::value_error("backend '" + name + "' is not in this build (it was compiled without AVX-512)");
  }
  return found->second;
}

// A read-only operand: used in place when it is a float32 matrix whose rows are
// contiguous (any row stride, the leading dimension), otherwise converted.
struct Operand {
  py::array keep;
  const float* data;
  int64_t rows, cols, ld;
};

Operand operand(py::handle obj, const char* name) {
  if (py::isinstance<py::array_t<float>>(obj)) {
    auto a = py::reinterpret_borrow<py::array>(obj);
    if (a.ndim() == 2 && a.shape(0) > 0 && a.shape(1) > 0 && a.strides(1) == sizeof(float) &&
        a.strides(0) % py::ssize_t(sizeof(float)) == 0 && a.strides(0) >= a.shape(1) * py::ssize_t(sizeof(float))) {
      const int64_t ld = a.shape(0) == 1 ? a.shape(1) : a.strides(0) / py::ssize_t(sizeof(float));
      return {a, static_cast<const float*>(a.data()), a.shape(0), a.shape(1), ld};
    }
  }
  FloatArray a = matrix(obj, name);
  return {a, a.data(), a.shape(0), a.shape(1), a.shape(1)};
}

bool overlaps(const py::array& a, const py::array& b) {
  auto span = [](const py::array& x) {
    const char* begin = static_cast<const char*>(x.data());
    return std::make_pair(begin, begin + (x.shape(0) - 1) * x.strides(0) + x.shape(1) * x.strides(1));
  };
  const auto [a0, a1] = span(a);
  const auto [b0, b1] = span(b);
  return a0 < b1 && b0 < a1;
}

}  // namespace

void bind_gemm_kernels(py::module_& parent) {
  py::module_ m = parent.attr("kernels");

  m.def("matmul", [](py::handle a, py::handle b, bool transpose_a, bool transpose_b, bool naive,
                     const std::string& backend) {
    const GemmBackend chosen = naive ? GemmBackend::naive : backend_named(backend);
    auto A = matrix(a, "a"), B = matrix(b, "b");
    const int64_t M = transpose_a ? A.shape(1) : A.shape(0), K = transpose_a ? A.shape(0) : A.shape(1);
    const int64_t Kb = transpose_b ? B.shape(1) : B.shape(0), N = transpose_b ? B.shape(0) : B.shape(1);
    if (K != Kb) throw py::value_error("a and b do not chain: inner sizes " + std::to_string(K) + " and " + std::to_string(Kb));
    py::array_t<float> c = new_array({M, N});
    float* cp = c.mutable_data();
    py::gil_scoped_release release;
    gemm(transpose_a, transpose_b, M, N, K, A.data(), A.shape(1), B.data(), B.shape(1), 0.0f, cp, N, chosen);
    return c;
  }, arg("a"), arg("b"), arg("transpose_a") = false, arg("transpose_b") = false, arg("naive") = false,
     arg("backend") = "fastest",
     "op(a)·op(b), tiled by shape (naive=True: the plain triple loop; backend: 'fastest', 'avx512', "
     "'avx2', 'eigen' or 'naive', for tests and benchmarks).");

  m.def("gemm", [](py::handle a, py::handle b, py::handle c, double beta, bool transpose_a, bool transpose_b,
                   const std::string& backend) {
    const GemmBackend chosen = backend_named(backend);
    const float beta32 = float(finite_number(py::float_(beta), "beta"));
    const Operand A = operand(a, "a"), B = operand(b, "b");
    const int64_t M = transpose_a ? A.cols : A.rows, K = transpose_a ? A.rows : A.cols;
    const int64_t Kb = transpose_b ? B.cols : B.rows, N = transpose_b ? B.rows : B.cols;
    if (K != Kb) throw py::value_error("a and b do not chain: inner sizes " + std::to_string(K) + " and " + std::to_string(Kb));
    if (!py::isinstance<py::array_t<float>>(c)) throw py::type_error("c must be a float32 NumPy array (written in place)");
    auto C = py::reinterpret_borrow<py::array>(c);
    if (C.ndim() != 2 || C.shape(0) != M || C.shape(1) != N) {
      throw py::value_error("c must have shape (" + std::to_string(M) + ", " + std::to_string(N) + ")");
    }
    if (!C.writeable()) throw py::value_error("c is read-only; it is written in place");
    if (C.strides(1) != sizeof(float) || C.strides(0) % py::ssize_t(sizeof(float)) != 0 ||
        C.strides(0) < N * py::ssize_t(sizeof(float))) {
      throw py::value_error("c's rows must be contiguous, with a row stride of at least its width");
    }
    if (overlaps(C, A.keep) || overlaps(C, B.keep)) throw py::value_error("c must not overlap a or b");
    const int64_t ldc = M == 1 ? N : C.strides(0) / py::ssize_t(sizeof(float));
    float* cp = static_cast<float*>(C.mutable_data());
    {
      py::gil_scoped_release release;
      gemm(transpose_a, transpose_b, M, N, K, A.data, A.ld, B.data, B.ld, beta32, cp, ldc, chosen);
    }
    return C;
  }, arg("a"), arg("b"), arg("c"), arg("beta") = 0.0, arg("transpose_a") = false, arg("transpose_b") = false,
     arg("backend") = "fastest",
     "c = op(a)·op(b) + beta·c in place (BLAS sgemm); a, b and c may be row-strided views.");

  m.def("gemm_backends", [] {
    py::list names;
    for (const char* name : {"avx512", "avx2", "eigen", "naive"}) {
      if (gemm_backend_available(backend_named(name))) names.append(name);
    }
    return names;
  }, "The tile backends this build can run.");
}

}  // namespace fastdnn::bind
