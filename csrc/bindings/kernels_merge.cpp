// fastdnn._core.kernels, continued: the merging kernels (Concatenate, Add, Subtract,
// Multiply, Average, Maximum, Minimum), forward and backward, for the tests.
#include <map>

#include "bindings/checks.h"
#include "kernels/merge.h"

namespace fastdnn::bind {

namespace {

using py::arg;

const std::vector<std::string> kKinds = {"concatenate", "add", "subtract", "multiply", "average", "maximum", "minimum"};

void check_kind(const std::string& kind) {
  for (const std::string& k : kKinds) {
    if (k == kind) return;
  }
  throw py::value_error("unknown merge kind '" + kind + "'");
}

// The inputs checked (arrays), with their data pointers, widths and total width.
struct MergeInputs {
  std::vector<FloatArray> arrays;
  std::vector<const float*> x;
  std::vector<int64_t> widths;
  int64_t total = 0;
  int count() const { return int(arrays.size()); }
  int64_t rows() const { return arrays[0].shape(0); }
};

// The inputs: a non-empty list of 2-D arrays with the same rows; equal widths unless
// concatenating (then each divisible by blocks).
MergeInputs merge_inputs(py::handle xs, const std::string& kind, int64_t blocks) {
  if (!py::isinstance<py::list>(xs)) throw py::type_error("xs must be a list of arrays");
  py::list list = py::reinterpret_borrow<py::list>(xs);
  if (list.size() == 0) throw py::value_error("xs must hold at least one array");
  if (kind == "subtract" && list.size() != 2) throw py::value_error("subtract takes exactly 2 inputs");
  if (blocks < 1) throw py::value_error("blocks must be >= 1");
  std::vector<FloatArray> out;
  for (size_t k = 0; k < list.size(); ++k) {
    const std::string name = "xs[" + std::to_string(k) + "]";
    const int64_t rows = k == 0 ? -1 : out[0].shape(0);
    const int64_t cols = k == 0 || kind == "concatenate" ? -1 : out[0].shape(1);
    out.push_back(matrix(list[k], name.c_str(), rows, cols));
    if (out.back().shape(1) % blocks != 0) throw py::value_error(name + "'s width must be divisible by blocks");
  }
  MergeInputs in;
  in.arrays = std::move(out);
  for (const FloatArray& a : in.arrays) {
    in.x.push_back(a.data());
    in.widths.push_back(a.shape(1));
    in.total += a.shape(1);
  }
  return in;
}

}  // namespace

void bind_merge_kernels(py::module_& parent) {
  py::module_ m = parent.attr("kernels").cast<py::module_>();

  m.def("merge_forward", [](const std::string& kind, py::handle xs, int64_t blocks) {
    check_kind(kind);
    const MergeInputs in = merge_inputs(xs, kind, blocks);
    const std::vector<const float*>& x = in.x;
    const std::vector<int64_t>& widths = in.widths;
    const int64_t total = in.total;
    const int inputs = in.count();
    const int64_t rows = in.rows(), n = rows * widths[0];
    py::array_t<float> y = new_array({rows, kind == "concatenate" ? total : widths[0]});
    float* out = y.mutable_data();
    if (kind == "concatenate") concatenate_forward(out, x.data(), widths.data(), inputs, rows, blocks);
    if (kind == "add") merge_sum_forward(out, x.data(), inputs, n, 1.0f);
    if (kind == "average") merge_sum_forward(out, x.data(), inputs, n, float(inputs));
    if (kind == "subtract") merge_subtract_forward(out, x[0], x[1], n);
    if (kind == "multiply") merge_multiply_forward(out, x.data(), inputs, n);
    if (kind == "maximum" || kind == "minimum") merge_extreme_forward(out, x.data(), inputs, n, kind == "maximum");
    return y;
  }, arg("kind"), arg("xs"), arg("blocks") = 1, "The merge of the arrays xs (kernels/merge.h).");

  m.def("merge_backward", [](const std::string& kind, py::handle dy, py::handle xs, int64_t blocks, py::handle into) {
    check_kind(kind);
    const MergeInputs in = merge_inputs(xs, kind, blocks);
    const std::vector<const float*>& x = in.x;
    const std::vector<int64_t>& widths = in.widths;
    const int64_t total = in.total;
    const int inputs = in.count();
    const int64_t rows = in.rows();
    auto dY = matrix(dy, "dy", rows, kind == "concatenate" ? total : widths[0]);
    // dx_k starts as into[k] (then the kernel adds) or is written (assign).
    std::vector<py::array_t<float>> dX;
    std::vector<float*> dx;
    std::unique_ptr<bool[]> accumulate(new bool[size_t(inputs)]);
    if (!into.is_none() && !py::isinstance<py::list>(into)) throw py::type_error("into must be a list of arrays or None");
    py::list start = into.is_none() ? py::list() : py::reinterpret_borrow<py::list>(into);
    if (!into.is_none() && int(start.size()) != inputs) throw py::value_error("into must hold one array per input");
    for (int k = 0; k < inputs; ++k) {
      dX.push_back(new_array({rows, widths[size_t(k)]}));
      dx.push_back(dX.back().mutable_data());
      accumulate[size_t(k)] = !into.is_none();
      if (accumulate[size_t(k)]) {
        auto s = matrix(start[size_t(k)], ("into[" + std::to_string(k) + "]").c_str(), rows, widths[size_t(k)]);
        std::copy(s.data(), s.data() + s.size(), dx.back());
      }
    }
    const int64_t n = rows * widths[0];
    const float* g = dY.data();
    if (kind == "concatenate") concatenate_backward(dx.data(), accumulate.get(), g, widths.data(), inputs, rows, blocks);
    if (kind == "add") merge_sum_backward(dx.data(), accumulate.get(), g, inputs, n, 1.0f);
    if (kind == "average") merge_sum_backward(dx.data(), accumulate.get(), g, inputs, n, float(inputs));
    if (kind == "subtract") merge_subtract_backward(dx.data(), accumulate.get(), g, n);
    if (kind == "multiply") merge_multiply_backward(dx.data(), accumulate.get(), g, x.data(), inputs, n);
    if (kind == "maximum" || kind == "minimum") {
      merge_extreme_backward(dx.data(), accumulate.get(), g, x.data(), inputs, n, kind == "maximum");
    }
    py::list out;
    for (auto& a : dX) out.append(a);
    return out;
  }, arg("kind"), arg("dy"), arg("xs"), arg("blocks") = 1, arg("into") = py::none(),
     "[dx_k]: the merge's input gradients; with into (one array per input), into[k] + dx_k (the accumulating path).");
}

}  // namespace fastdnn::bind
