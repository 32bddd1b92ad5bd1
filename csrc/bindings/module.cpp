// fastdnn._core: the C++ engine. The Python package (fastdnn) builds on it.
#include "bindings/checks.h"
#include "kernels/parallel.h"

namespace fastdnn::bind {
void bind_kernels(py::module_& m);
void bind_gemm_kernels(py::module_& m);  // after bind_kernels: adds to its submodule
void bind_layer_kernels(py::module_& m);
void bind_merge_kernels(py::module_& m);
void bind_network(py::module_& m);
void bind_network_shards(py::module_& m);  // after bind_network: adds to Network
void bind_pool(py::module_& m);
}  // namespace fastdnn::bind

PYBIND11_MODULE(_core, m) {
  namespace py = pybind11;
  m.doc() = "fastdnn's C++ engine: kernels and whole training steps, with the GIL released.";
  m.def("set_num_threads", [](py::handle n) {
    fastdnn::set_num_threads(int(fastdnn::bind::integer_in(n, "n", 1, 1024)));
  }, py::arg("n"), "Threads fastdnn may use (default: OMP_NUM_THREADS, else the machine's cores).");
  m.def("get_num_threads", &fastdnn::num_threads, "Threads fastdnn may use.");
  fastdnn::bind::bind_kernels(m);
  fastdnn::bind::bind_gemm_kernels(m);
  fastdnn::bind::bind_layer_kernels(m);
  fastdnn::bind::bind_merge_kernels(m);
  fastdnn::bind::bind_network(m);
  fastdnn::bind::bind_network_shards(m);
  fastdnn::bind::bind_pool(m);
}
