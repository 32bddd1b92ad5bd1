// The binding boundary: every array and setting from Python is checked here,
// before any raw pointer reaches a kernel, and bad input becomes a Python
// TypeError / ValueError / IndexError that names the argument and what was expected.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <vector>

namespace fastdnn::bind {

namespace py = pybind11;

// Read-only inputs: float32, C-contiguous. Numeric arrays (bool, int, float of
// any width) are converted as Keras converts them; other dtypes raise TypeError.
using FloatArray = py::array_t<float, py::array::c_style | py::array::forcecast>;

// A 2-D float array, with `rows` / `cols` checked unless -1, and at least one row unless allow_empty.
FloatArray matrix(py::handle obj, const char* name, int64_t rows = -1, int64_t cols = -1, bool allow_empty = false);
// A 1-D float array, with `size` checked unless -1.
FloatArray vector(py::handle obj, const char* name, int64_t size = -1);
// Any-shape float array with at least one element.
FloatArray any_array(py::handle obj, const char* name);

// Class labels for `rows` samples: shape (rows,) or (rows, 1), integers (or
// integral floats) in [0, classes). Returned as int32.
py::array_t<int32_t> labels(py::handle obj, const char* name, int64_t rows, int64_t classes);

// Per-sample weights (Keras' sample_weight): shape (rows,) or (rows, 1), each
// finite and >= 0 (fastdnn's rule; Keras takes any float). Returned as float32.
FloatArray sample_weights(py::handle obj, const char* name, int64_t rows);

// Row indices: a non-empty 1-D integer array (TypeError for other dtypes), as int64.
py::array_t<int64_t> indices(py::handle obj, const char* name);

// Raises the Python exception `type` (e.g. PyExc_MemoryError, PyExc_OverflowError).
[[noreturn]] void raise(PyObject* type, const std::string& message);

// Settings.
double finite_number(py::handle obj, const char* name);
double number_in(py::handle obj, const char* name, double low, double high, bool high_open);
int64_t integer_in(py::handle obj, const char* name, int64_t low, int64_t high);

// New float32 arrays returned to Python.
py::array_t<float> new_array(std::vector<int64_t> shape);

// A dict of settings read key by key; finish() rejects the keys nobody read.
class Settings {
 public:
  Settings(py::handle obj, std::string where);
  bool has(const char* key) const;
  py::handle get(const char* key);  // marks the key as read; None when absent
  std::string string(const char* key, const char* fallback);
  bool flag(const char* key, bool fallback);
  double number(const char* key, double fallback, double low, double high, bool high_open = false);
  int64_t integer(const char* key, int64_t fallback, int64_t low, int64_t high);
  void finish() const;
  std::string name(const char* key) const { return where_ + "['" + key + "']"; }

 private:
  py::dict dict_;
  std::string where_;
  std::vector<std::string> read_;
};

}  // namespace fastdnn::bind
