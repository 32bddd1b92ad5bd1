#include "bindings/network_data.h"

namespace fastdnn::bind {

namespace {

bool is_sequence(py::handle obj) { return py::isinstance<py::list>(obj) || py::isinstance<py::tuple>(obj); }

// Whether `obj` is a list with one entry per input slot / head (`count` of them): always
// when the network was built with lists or has several; for one, a list holding exactly
// one NumPy array (or None), so that a nested Python list of numbers stays one array.
bool is_per_slot_list(py::handle obj, bool listed, int count) {
  if (!is_sequence(obj)) return false;
  if (listed || count > 1) return true;
  py::sequence list = py::reinterpret_borrow<py::sequence>(obj);
  return list.size() == 1 && (py::isinstance<py::array>(list[0]) || list[0].is_none());
}

std::string shape_of(py::handle obj) { return std::string(py::str(py::tuple(obj.attr("shape")))); }

// y for head h as its loss expects it: labels for the sparse loss, else (rows, width)
// floats (a 1-D y is accepted for a one-wide output).
Targets head_targets(const Network& net, int h, py::handle y, const std::string& name, int64_t rows,
                     std::vector<py::object>& keep) {
  const int64_t width = net.output_width(h);
  Targets t;
  t.width = width;
  if (net.spec().heads[size_t(h)].loss.kind == LossKind::SparseCategoricalCrossentropy) {
    auto l = labels(y, name.c_str(), rows, width);
    keep.push_back(l);
    t.labels = l.data();
    return t;
  }
  py::array a = py::array::ensure(y);
  FloatArray v = (a && a.ndim() == 1 && width == 1) ? vector(y, name.c_str(), rows)
                                                    : matrix(y, name.c_str(), rows, width, rows == 0);
  keep.push_back(v);
  t.values = v.data();
  return t;
}

}  // namespace

Inputs inputs_of(const Network& net, py::handle x, bool allow_empty) {
  const int k = net.inputs();
  Inputs in;
  const bool listed = is_per_slot_list(x, net.spec().listed_inputs, k);
  if (!listed) {
    if (k > 1) {
      throw py::type_error("x must be a list of " + std::to_string(k) + " arrays, one per input; got " +
                           std::string(py::str(py::type::of(x))));
    }
    in.arrays.push_back(matrix(x, "x", -1, net.spec().input_widths[0], allow_empty));
  } else {
    py::sequence list = py::reinterpret_borrow<py::sequence>(x);
    if (int(list.size()) != k) {
      throw py::value_error("x must list one array per input (" + std::to_string(k) + "); got " +
                            std::to_string(list.size()));
    }
    for (int s = 0; s < k; ++s) {
      const std::string name = "x[" + std::to_string(s) + "]";
      const int64_t rows = s == 0 ? -1 : in.arrays[0].shape(0);
      in.arrays.push_back(matrix(list[size_t(s)], name.c_str(), rows, net.spec().input_widths[size_t(s)], allow_empty));
    }
  }
  for (const FloatArray& a : in.arrays) in.data.push_back(a.data());
  return in;
}

Batch batch_of(const Network& net, py::handle x, py::handle y, py::handle sample_weight, bool allow_empty) {
  Batch b;
  b.x = inputs_of(net, x, allow_empty);
  const int64_t rows = b.rows();
  const int heads = net.heads();
  const float* weights = nullptr;
  if (!sample_weight.is_none()) {
    FloatArray w = sample_weights(sample_weight, "sample_weight", rows);
    b.keep.push_back(w);
    weights = w.data();
  }
  const bool listed = is_per_slot_list(y, net.spec().listed_heads, heads);
  if (!listed && heads > 1) {
    throw py::type_error("y must be a list of " + std::to_string(heads) + " entries, one per head; got " +
                         std::string(py::str(py::type::of(y))));
  }
  py::sequence list = listed ? py::reinterpret_borrow<py::sequence>(y) : py::sequence();
  if (listed && int(list.size()) != heads) {
    throw py::value_error("y must list one entry per head (" + std::to_string(heads) + "); got " +
                          std::to_string(list.size()));
  }
  for (int h = 0; h < heads; ++h) {
    const std::string name = listed ? "y[" + std::to_string(h) + "]" : "y";
    py::handle entry = listed ? py::handle(list[size_t(h)]) : y;
    Targets t;
    if (net.spec().heads[size_t(h)].has_loss) {
      if (entry.is_none()) throw py::value_error(name + " is None, but head " + std::to_string(h) + " has a loss");
      t = head_targets(net, h, entry, name, rows, b.keep);
    }
    t.weights = weights;  // a head without loss ignores its entry
    b.y.push_back(t);
  }
  return b;
}

float* output_buffer(py::handle obj, const std::string& name, int64_t rows, int64_t cols) {
  if (obj.is_none()) return nullptr;
  if (!py::isinstance<py::array>(obj)) throw py::type_error(name + " must be a NumPy float32 array or None");
  py::array a = py::reinterpret_borrow<py::array>(obj);
  if (!a.dtype().is(py::dtype::of<float>())) {
    throw py::type_error(name + " must be a float32 array; got dtype " + std::string(py::str(a.dtype())));
  }
  if (a.ndim() != 2 || a.shape(0) != rows || a.shape(1) != cols) {
    throw py::value_error(name + " must have shape (" + std::to_string(rows) + ", " + std::to_string(cols) +
                          "); got " + shape_of(obj));
  }
  if (!(a.flags() & py::array::c_style) || !a.writeable()) {
    throw py::value_error(name + " must be a writable C-contiguous array");
  }
  return static_cast<float*>(a.mutable_data());
}

std::vector<float*> output_buffers(const Network& net, py::handle outputs, int64_t rows) {
  const int heads = net.heads();
  std::vector<float*> out(size_t(heads), nullptr);
  if (outputs.is_none()) return out;
  if (!is_per_slot_list(outputs, net.spec().listed_heads, heads)) {
    if (heads > 1) throw py::type_error("outputs must be a list of " + std::to_string(heads) + " buffers (or None)");
    out[0] = output_buffer(outputs, "outputs", rows, net.output_width(0));
    return out;
  }
  py::sequence list = py::reinterpret_borrow<py::sequence>(outputs);
  if (int(list.size()) != heads) {
    throw py::value_error("outputs must list one buffer (or None) per head (" + std::to_string(heads) + "); got " +
                          std::to_string(list.size()));
  }
  for (int h = 0; h < heads; ++h) {
    out[size_t(h)] = output_buffer(list[size_t(h)], "outputs[" + std::to_string(h) + "]", rows, net.output_width(h));
  }
  return out;
}

double* head_loss_buffer(py::handle obj, std::vector<int64_t> shape) {
  if (obj.is_none()) return nullptr;
  std::string expected = "(";
  for (size_t d = 0; d < shape.size(); ++d) expected += std::to_string(shape[d]) + (shape.size() == 1 ? ",)" : d + 1 < shape.size() ? ", " : ")");
  if (!py::isinstance<py::array>(obj)) throw py::type_error("head_losses must be a NumPy float64 array or None");
  py::array a = py::reinterpret_borrow<py::array>(obj);
  if (!a.dtype().is(py::dtype::of<double>())) {
    throw py::type_error("head_losses must be a float64 array; got dtype " + std::string(py::str(a.dtype())));
  }
  bool same = a.ndim() == py::ssize_t(shape.size());
  for (size_t d = 0; same && d < shape.size(); ++d) same = a.shape(py::ssize_t(d)) == shape[d];
  if (!same) throw py::value_error("head_losses must have shape " + expected + "; got " + shape_of(obj));
  if (!(a.flags() & py::array::c_style) || !a.writeable()) {
    throw py::value_error("head_losses must be a writable C-contiguous array");
  }
  return static_cast<double*>(a.mutable_data());
}

}  // namespace fastdnn::bind
