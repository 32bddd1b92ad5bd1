// fastdnn._core.kernels, continued: the kernels of Normalization, Rescaling,
// GaussianNoise, GaussianDropout, ActivityRegularization and LayerNormalization.
#include <limits>

#include "bindings/checks.h"
#include "kernels/activity_regularization.h"
#include "kernels/layernorm.h"
#include "kernels/noise.h"
#include "kernels/preprocessing.h"

namespace fastdnn::bind {

namespace {

using py::arg;
constexpr double kInf = std::numeric_limits<double>::infinity();

uint64_t seed_of(py::handle obj, const char* name) {
  return uint64_t(integer_in(obj, name, 0, std::numeric_limits<int64_t>::max()));
}

std::vector<int64_t> shape_of(const FloatArray& a) { return std::vector<int64_t>(a.shape(), a.shape() + a.ndim()); }

const float* optional_vector(py::handle obj, const char* name, int64_t size, FloatArray* keep) {
  if (obj.is_none()) return nullptr;
  *keep = vector(obj, name, size);
  return keep->data();
}

}  // namespace

void bind_layer_kernels(py::module_& parent) {
  py::module_ m = parent.attr("kernels").cast<py::module_>();

  m.def("normalization_forward", [](py::handle x, py::handle mean, py::handle variance, double epsilon, bool invert) {
    auto X = matrix(x, "x");
    const int64_t B = X.shape(0), C = X.shape(1);
    auto M = vector(mean, "mean", C), V = vector(variance, "variance", C);
    if (!(epsilon > 0.0)) throw py::value_error("epsilon must be > 0");
    py::array_t<float> y = new_array({B, C}), d = new_array({C});
    normalization_denominators(d.mutable_data(), V.data(), C, float(epsilon));
    normalization_forward(y.mutable_data(), X.data(), M.data(), d.data(), B, C, invert);
    return py::make_tuple(y, d);
  }, arg("x"), arg("mean"), arg("variance"), arg("epsilon") = 1e-7, arg("invert") = false,
     "(y, d): y = (x − mean)/d with d = max(√variance, ε); invert: y = mean + x·d");

  m.def("normalization_backward", [](py::handle dy, py::handle denominator, bool invert) {
    auto dY = matrix(dy, "dy");
    const int64_t B = dY.shape(0), C = dY.shape(1);
    auto D = vector(denominator, "denominator", C);
    py::array_t<float> dx = new_array({B, C});
    normalization_backward(dx.mutable_data(), dY.data(), D.data(), B, C, invert);
    return dx;
  }, arg("dy"), arg("denominator"), arg("invert") = false, "dx = dy/d (invert: dy·d)");

  m.def("rescaling_forward", [](py::handle x, py::handle scale, py::handle offset) {
    auto X = matrix(x, "x");
    const int64_t B = X.shape(0), C = X.shape(1);
    auto S = vector(scale, "scale", C), O = vector(offset, "offset", C);
    py::array_t<float> y = new_array({B, C});
    rescaling_forward(y.mutable_data(), X.data(), S.data(), O.data(), B, C);
    return y;
  }, arg("x"), arg("scale"), arg("offset"), "y = x·scale + offset (per feature)");

  m.def("rescaling_backward", [](py::handle dy, py::handle scale) {
    auto dY = matrix(dy, "dy");
    const int64_t B = dY.shape(0), C = dY.shape(1);
    auto S = vector(scale, "scale", C);
    py::array_t<float> dx = new_array({B, C});
    rescaling_backward(dx.mutable_data(), dY.data(), S.data(), B, C);
    return dx;
  }, arg("dy"), arg("scale"), "dx = dy·scale");

  m.def("standard_normal", [](py::handle n, py::handle seed, py::handle stream) {
    const int64_t count = integer_in(n, "n", 1, int64_t(1) << 34);
    py::array_t<float> z = new_array({count});
    standard_normal(z.mutable_data(), count, seed_of(seed, "seed"), seed_of(stream, "stream"));
    return z;
  }, arg("n"), arg("seed") = 0, arg("stream") = 0, "n draws of N(0, 1) from the engine's Philox stream");

  m.def("gaussian_noise_forward", [](py::handle x, py::handle stddev, py::handle seed, py::handle stream) {
    auto X = any_array(x, "x");
    const double sigma = number_in(stddev, "stddev", 0.0, kInf, false);
    py::array_t<float> y = new_array(shape_of(X));
    gaussian_noise_forward(y.mutable_data(), X.data(), X.size(), sigma, seed_of(seed, "seed"), seed_of(stream, "stream"));
    return y;
  }, arg("x"), arg("stddev"), arg("seed") = 0, arg("stream") = 0, "y = x + stddev·z (training mode)");

  m.def("gaussian_dropout_forward", [](py::handle x, py::handle rate, py::handle seed, py::handle stream) {
    auto X = any_array(x, "x");
    const double r = number_in(rate, "rate", 0.0, 1.0, true);
    py::array_t<float> y = new_array(shape_of(X)), mask = new_array(shape_of(X));
    gaussian_dropout_forward(y.mutable_data(), mask.mutable_data(), X.data(), X.size(), r, seed_of(seed, "seed"),
                             seed_of(stream, "stream"));
    return py::make_tuple(y, mask);
  }, arg("x"), arg("rate"), arg("seed") = 0, arg("stream") = 0,
     "(y, mask): mask = 1 + √(rate/(1−rate))·z, y = x·mask (training mode); backward: mask_backward");

  m.def("activity_penalty", [](py::handle x, double l1, double l2) {
    auto X = any_array(x, "x");
    if (!(l1 >= 0.0 && l2 >= 0.0)) throw py::value_error("l1 and l2 must be >= 0");
    return activity_penalty(X.data(), X.size(), l1, l2);
  }, arg("x"), arg("l1") = 0.0, arg("l2") = 0.0, "Σ l1·|x| + l2·x²");

  m.def("activity_regularization_backward", [](py::handle dy, py::handle x, double l1, double l2, double scale) {
    auto dY = any_array(dy, "dy"), X = any_array(x, "x");
    if (X.size() != dY.size()) throw py::value_error("x must have the shape of dy");
    if (!(l1 >= 0.0 && l2 >= 0.0)) throw py::value_error("l1 and l2 must be >= 0");
    py::array_t<float> dx = new_array(shape_of(dY));
    activity_regularization_backward(dx.mutable_data(), dY.data(), X.data(), X.size(), l1, l2, scale);
    return dx;
  }, arg("dy"), arg("x"), arg("l1") = 0.0, arg("l2") = 0.0, arg("scale") = 1.0,
     "dx = dy + scale·(l1·sign(x) + 2·l2·x)");

  m.def("layernorm_forward", [](py::handle x, py::handle gamma, py::handle beta, double epsilon, bool rms_scaling) {
    auto X = matrix(x, "x");
    const int64_t B = X.shape(0), C = X.shape(1);
    FloatArray kg, kb;
    const float* g = optional_vector(gamma, "gamma", C, &kg);
    const float* b = optional_vector(beta, "beta", C, &kb);
    if (!(epsilon > 0.0)) throw py::value_error("epsilon must be > 0");
    py::array_t<float> y = new_array({B, C}), xhat = new_array({B, C}), mean = new_array({B}),
                       inv_std = new_array({B});
    layernorm_forward(y.mutable_data(), xhat.mutable_data(), mean.mutable_data(), inv_std.mutable_data(), X.data(),
                      g, b, B, C, float(epsilon), rms_scaling);
    return py::make_tuple(y, xhat, mean, inv_std);
  }, arg("x"), arg("gamma") = py::none(), arg("beta") = py::none(), arg("epsilon") = 1e-3,
     arg("rms_scaling") = false, "(y, xhat, mean, inv_std), per row over the features");

  m.def("layernorm_backward", [](py::handle dy, py::handle xhat, py::handle mean, py::handle inv_std,
                                 py::handle gamma, bool rms_scaling) {
    auto dY = matrix(dy, "dy");
    const int64_t B = dY.shape(0), C = dY.shape(1);
    auto H = matrix(xhat, "xhat", B, C);
    auto M = vector(mean, "mean", B), S = vector(inv_std, "inv_std", B);
    FloatArray kg;
    const float* g = optional_vector(gamma, "gamma", C, &kg);
    py::array_t<float> dx = new_array({B, C}), dgamma = new_array({C}), dbeta = new_array({C});
    layernorm_backward(dx.mutable_data(), dgamma.mutable_data(), dbeta.mutable_data(), dY.data(), H.data(), M.data(),
                       S.data(), g, B, C, rms_scaling);
    return py::make_tuple(dx, dgamma, dbeta);
  }, arg("dy"), arg("xhat"), arg("mean"), arg("inv_std"), arg("gamma") = py::none(), arg("rms_scaling") = false,
     "(dx, dgamma, dbeta)");
}

}  // namespace fastdnn::bind
