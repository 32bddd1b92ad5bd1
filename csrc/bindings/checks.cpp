#include "bindings/checks.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

namespace fastdnn::bind {

namespace {

std::string shape_text(const py::array& a) {
  std::ostringstream s;
  s << "(";
  for (py::ssize_t i = 0; i < a.ndim(); ++i) s << (i ? ", " : "") << a.shape(i);
  s << (a.ndim() == 1 ? ",)" : ")");
  return s.str();
}

std::string dim_text(int64_t d, const char* symbol) { return d < 0 ? symbol : std::to_string(d); }

// Any array-like, as a NumPy array with a numeric dtype.
py::array numeric(py::handle obj, const char* name) {
  if (obj.is_none()) throw py::type_error(std::string(name) + " is None; expected an array");
  py::array a;
  try {
    a = py::array::ensure(obj);
  } catch (py::error_already_set&) {
  }
  if (!a) {
    throw py::type_error(std::string(name) + " must be an array of numbers; got " +
                         std::string(py::str(py::type::of(obj))));
  }
  const char kind = a.dtype().kind();
  if (kind != 'b' && kind != 'i' && kind != 'u' && kind != 'f') {
    throw py::type_error(std::string(name) + " has dtype " + std::string(py::str(a.dtype())) +
                         "; expected numbers (float32, or a bool, integer or float dtype "
                         "that converts to it)");
  }
  return a;
}

// `a` as a C-contiguous array of `dtype`, converted by NumPy when needed with its
// floating-point warnings off (float64 → float32 overflows to ±inf, as Keras
// converts; a warnings filter set to "error" must not turn that into a failure).
// A copy too big for memory is a MemoryError naming the argument. (pybind11's
// array_t::ensure would swallow that error and hand back a null array.)
py::array converted(const py::array& a, const py::dtype& dtype, const char* name) {
  if (a.dtype().equal(dtype) && (a.flags() & py::array::c_style)) return a;
  py::module_ np = py::module_::import("numpy");
  py::object quiet = np.attr("errstate")(py::arg("all") = "ignore");
  quiet.attr("__enter__")();
  py::object out;
  try {
    out = np.attr("ascontiguousarray")(a, py::arg("dtype") = dtype);
  } catch (py::error_already_set& e) {
    quiet.attr("__exit__")(py::none(), py::none(), py::none());
    if (e.matches(PyExc_MemoryError)) {
      raise(PyExc_MemoryError, std::string(name) + " of shape " + shape_text(a) + " needs a contiguous " +
                                   std::string(py::str(dtype)) + " copy, and there is not enough memory for it");
    }
    throw;
  }
  quiet.attr("__exit__")(py::none(), py::none(), py::none());
  return py::reinterpret_borrow<py::array>(out);
}

FloatArray to_float(const py::array& a, const char* name) {
  return FloatArray::ensure(converted(a, py::dtype::of<float>(), name));
}

}  // namespace

void raise(PyObject* type, const std::string& message) {
  PyErr_SetString(type, message.c_str());
  throw py::error_already_set();
}

py::array_t<int64_t> indices(py::handle obj, const char* name) {
  py::array a = numeric(obj, name);
  const char kind = a.dtype().kind();
  if (kind != 'i' && kind != 'u') {
    throw py::type_error(std::string(name) + " has dtype " + std::string(py::str(a.dtype())) +
                         "; expected integer row indices");
  }
  if (a.ndim() != 1 || a.shape(0) == 0) {
    throw py::value_error(std::string(name) + " must be a non-empty 1-D array of row indices; got shape " +
                          shape_text(a));
  }
  return py::array_t<int64_t>::ensure(converted(a, py::dtype::of<int64_t>(), name));
}

FloatArray matrix(py::handle obj, const char* name, int64_t rows, int64_t cols, bool allow_empty) {
  py::array a = numeric(obj, name);
  if (a.ndim() != 2 || (rows >= 0 && a.shape(0) != rows) || (cols >= 0 && a.shape(1) != cols)) {
    throw py::value_error(std::string(name) + " must have shape (" + dim_text(rows, "batch") +
                          ", " + dim_text(cols, "features") + "); got shape " + shape_text(a));
  }
  if (a.shape(0) == 0 && !allow_empty) {
    throw py::value_error(std::string(name) + " is empty: it needs at least one row");
  }
  return to_float(a, name);
}

FloatArray vector(py::handle obj, const char* name, int64_t size) {
  py::array a = numeric(obj, name);
  if (a.ndim() != 1 || (size >= 0 && a.shape(0) != size)) {
    throw py::value_error(std::string(name) + " must have shape (" + dim_text(size, "n") +
                          ",); got shape " + shape_text(a));
  }
  return to_float(a, name);
}

FloatArray any_array(py::handle obj, const char* name) {
  py::array a = numeric(obj, name);
  if (a.size() == 0) throw py::value_error(std::string(name) + " is empty");
  return to_float(a, name);
}

FloatArray sample_weights(py::handle obj, const char* name, int64_t rows) {
  py::array a = numeric(obj, name);
  if (!((a.ndim() == 1 && a.shape(0) == rows) ||
        (a.ndim() == 2 && a.shape(0) == rows && a.shape(1) == 1))) {
    throw py::value_error(std::string(name) + " must hold one weight per sample, shape (" +
                          std::to_string(rows) + ",) or (" + std::to_string(rows) + ", 1); got shape " +
                          shape_text(a));
  }
  FloatArray w = to_float(a, name);
  for (int64_t i = 0; i < rows; ++i) {
    const float v = w.data()[i];
    if (!std::isfinite(v) || v < 0.0f) {
      throw py::value_error(std::string(name) + "[" + std::to_string(i) + "] = " + std::to_string(v) +
                            ": sample weights must be finite and >= 0");
    }
  }
  return w;
}

py::array_t<int32_t> labels(py::handle obj, const char* name, int64_t rows, int64_t classes) {
  py::array a = numeric(obj, name);
  if (!((a.ndim() == 1 && a.shape(0) == rows) ||
        (a.ndim() == 2 && a.shape(0) == rows && a.shape(1) == 1))) {
    throw py::value_error(std::string(name) + " must hold one class label per sample, shape (" +
                          std::to_string(rows) + ",) or (" + std::to_string(rows) +
                          ", 1); got shape " + shape_text(a));
  }
  // Checked in double: exact for every integer label a float32/float64 or int64 can carry.
  auto values = py::array_t<double>::ensure(converted(a, py::dtype::of<double>(), name));
  py::array_t<int32_t> out(rows);
  const double* v = values.data();
  int32_t* o = out.mutable_data();
  for (int64_t i = 0; i < rows; ++i) {
    if (!(v[i] >= 0 && v[i] < double(classes)) || v[i] != std::floor(v[i])) {
      std::ostringstream s;
      s << name << "[" << i << "] = " << v[i] << " is not a class label: labels must be integers in [0, "
        << classes << ") for " << classes << " outputs";
      throw py::value_error(s.str());
    }
    o[i] = int32_t(v[i]);
  }
  return out;
}

double finite_number(py::handle obj, const char* name) {
  if (obj.is_none() || PyBool_Check(obj.ptr()) || !PyNumber_Check(obj.ptr())) {
    throw py::type_error(std::string(name) + " must be a number; got " +
                         std::string(py::str(py::repr(obj))));
  }
  if (py::isinstance<py::array>(obj) && py::reinterpret_borrow<py::array>(obj).ndim() != 0) {
    throw py::type_error(std::string(name) + " must be a number; got an array of shape " +
                         shape_text(py::reinterpret_borrow<py::array>(obj)));
  }
  const double v = PyFloat_AsDouble(obj.ptr());
  if (v == -1.0 && PyErr_Occurred()) {
    const bool overflow = PyErr_ExceptionMatches(PyExc_OverflowError);
    PyErr_Clear();
    if (overflow) raise(PyExc_OverflowError, std::string(name) + " is too large for a float; got " +
                                                 std::string(py::str(py::repr(obj))).substr(0, 60));
    throw py::type_error(std::string(name) + " must be a real number; got " + std::string(py::str(py::repr(obj))));
  }
  if (!std::isfinite(v)) throw py::value_error(std::string(name) + " must be finite; got " + std::to_string(v));
  return v;
}

double number_in(py::handle obj, const char* name, double low, double high, bool high_open) {
  const double v = finite_number(obj, name);
  if (v < low || v > high || (high_open && v == high)) {
    std::ostringstream s;
    s << name << " must be in [" << low << ", " << high << (high_open || std::isinf(high) ? ")" : "]")
      << "; got " << v;
    throw py::value_error(s.str());
  }
  return v;
}

int64_t integer_in(py::handle obj, const char* name, int64_t low, int64_t high) {
  if (PyBool_Check(obj.ptr()) || !PyIndex_Check(obj.ptr())) {
    throw py::type_error(std::string(name) + " must be an integer; got " +
                         std::string(py::str(py::repr(obj))));
  }
  const py::int_ as_int = py::reinterpret_steal<py::int_>(PyNumber_Index(obj.ptr()));
  if (!as_int) throw py::error_already_set();
  int overflow = 0;  // exact: a double compare would let 2**63 through as INT64_MAX
  const long long v = PyLong_AsLongLongAndOverflow(as_int.ptr(), &overflow);
  if (v == -1 && !overflow && PyErr_Occurred()) throw py::error_already_set();
  if (overflow != 0 || v < low || v > high) {
    std::string got = py::str(as_int);
    if (got.size() > 40) got = got.substr(0, 20) + "..." + got.substr(got.size() - 10) + " (" + std::to_string(got.size()) + " digits)";
    throw py::value_error(std::string(name) + " must be in [" + std::to_string(low) + ", " +
                          std::to_string(high) + "]; got " + got);
  }
  return int64_t(v);
}

py::array_t<float> new_array(std::vector<int64_t> shape) {
  std::vector<py::ssize_t> dims(shape.begin(), shape.end());
  py::array_t<float> a(dims);
  std::fill(a.mutable_data(), a.mutable_data() + a.size(), 0.0f);
  return a;
}

Settings::Settings(py::handle obj, std::string where) : where_(std::move(where)) {
  if (!py::isinstance<py::dict>(obj)) {
    throw py::type_error(where_ + " must be a dict; got " + std::string(py::str(py::type::of(obj))));
  }
  dict_ = py::reinterpret_borrow<py::dict>(obj);
}

bool Settings::has(const char* key) const {
  return dict_.contains(key) && !py::handle(dict_[key]).is_none();
}

py::handle Settings::get(const char* key) {
  read_.emplace_back(key);
  return dict_.contains(key) ? py::handle(dict_[key]) : py::handle(Py_None);
}

std::string Settings::string(const char* key, const char* fallback) {
  py::handle v = get(key);
  if (v.is_none()) return fallback;
  if (!py::isinstance<py::str>(v)) throw py::type_error(name(key) + " must be a string");
  return v.cast<std::string>();
}

bool Settings::flag(const char* key, bool fallback) {
  py::handle v = get(key);
  if (v.is_none()) return fallback;
  if (!PyBool_Check(v.ptr()) && !py::isinstance<py::int_>(v)) {
    throw py::type_error(name(key) + " must be True or False; got " + std::string(py::str(py::repr(v))));
  }
  return v.cast<bool>();
}

double Settings::number(const char* key, double fallback, double low, double high, bool high_open) {
  py::handle v = get(key);
  if (v.is_none()) return fallback;
  return number_in(v, name(key).c_str(), low, high, high_open);
}

int64_t Settings::integer(const char* key, int64_t fallback, int64_t low, int64_t high) {
  py::handle v = get(key);
  if (v.is_none()) return fallback;
  return integer_in(v, name(key).c_str(), low, high);
}

void Settings::finish() const {
  std::vector<std::string> unknown;
  for (auto item : dict_) {
    const std::string key = py::str(item.first);
    if (std::find(read_.begin(), read_.end(), key) == read_.end()) unknown.push_back(key);
  }
  if (unknown.empty()) return;
  std::string list;
  for (const std::string& k : unknown) list += (list.empty() ? "'" : ", '") + k + "'";
  throw py::value_error(where_ + ": unknown setting(s) " + list);
}

}  // namespace fastdnn::bind
