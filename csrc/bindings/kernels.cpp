// fastdnn._core.kernels: each kernel on NumPy arrays, for tests and for people
// checking the engine's math. Inputs are validated and converted; outputs are new arrays.
#include <algorithm>
#include <cmath>
#include <iterator>
#include <map>

#include "bindings/checks.h"
#include "bindings/specs.h"
#include "kernels/activations.h"
#include "kernels/batchnorm.h"
#include "kernels/constraints.h"
#include "kernels/dense.h"
#include "kernels/dropout.h"
#include "kernels/gradient_transforms.h"
#include "kernels/leaky_relu_variants.h"
#include "kernels/losses.h"
#include "kernels/losses_extra.h"
#include "kernels/metrics.h"
#include "engine/optimizer.h"

namespace fastdnn::bind {

namespace {

using py::arg;

// An optional per-feature vector (gamma, beta, bias): null pointer when None.
const float* optional_vector(py::handle obj, const char* name, int64_t size, FloatArray* keep) {
  if (obj.is_none()) return nullptr;
  *keep = vector(obj, name, size);
  return keep->data();
}

uint64_t seed_of(py::handle obj, const char* name) {
  return uint64_t(integer_in(obj, name, 0, std::numeric_limits<int64_t>::max()));
}

void activation_from_kwargs(const std::string& name, py::kwargs kwargs, Activation* f, ActivationParams* p) {
  py::dict settings(kwargs);
  settings["activation"] = name;
  Settings s(settings, "activation");
  read_activation(s, f, p);
  s.finish();
}

// Losses and accuracies over zero classes mean nothing (and would read a
// maximum or an argmax out of an empty row).
void require_columns(int64_t columns, const char* name) {
  if (columns < 1) throw py::value_error(std::string(name) + " must have at least one column (class); got 0");
}

py::tuple loss_and_gradient(const std::string& name, py::handle y_true, py::handle y_pred, bool from_logits,
                            py::handle sample_weight, double delta) {
  using DenseLoss = double (*)(float*, const float*, const float*, int64_t, int64_t, const float*);
  static const std::map<std::string, DenseLoss> dense = {
      {"mean_squared_error", mean_squared_error},
      {"mean_absolute_error", mean_absolute_error},
      {"log_cosh", log_cosh},
      {"kl_divergence", kl_divergence},
      {"poisson", poisson},
      {"hinge", hinge},
      {"squared_hinge", squared_hinge},
      {"mean_absolute_percentage_error", mean_absolute_percentage_error},
      {"mean_squared_logarithmic_error", mean_squared_logarithmic_error},
      {"cosine_similarity", cosine_similarity},
  };
  const bool is_crossentropy = name == "sparse_categorical_crossentropy" || name == "categorical_crossentropy" ||
                            name == "binary_crossentropy";
  if (!is_crossentropy && name != "huber" && dense.count(name) == 0) {
    std::string known = "binary_crossentropy, categorical_crossentropy, huber, sparse_categorical_crossentropy";
    for (const auto& [n, f] : dense) known += ", " + n;
    throw py::value_error("unknown loss '" + name + "'; known: " + known);
  }
  if (from_logits && !is_crossentropy) throw py::value_error("from_logits applies to the cross-entropy losses only");
  auto P = matrix(y_pred, "y_pred");
  const int64_t B = P.shape(0), C = P.shape(1);
  require_columns(C, "y_pred");
  FloatArray W;
  const float* w = nullptr;
  if (!sample_weight.is_none()) {
    W = sample_weights(sample_weight, "sample_weight", B);
    w = W.data();
  }
  py::array_t<float> grad = new_array({B, C});
  float* g = grad.mutable_data();
  double loss = 0.0;
  if (name == "sparse_categorical_crossentropy") {
    auto t = labels(y_true, "y_true", B, C);
    loss = from_logits ? sparse_softmax_crossentropy(g, P.data(), t.data(), B, C, w)
                       : sparse_crossentropy(g, P.data(), t.data(), B, C, w);
    return py::make_tuple(loss, grad);
  }
  auto Y = matrix(y_true, "y_true", B, C);
  if (name == "categorical_crossentropy") {
    loss = from_logits ? softmax_crossentropy(g, P.data(), Y.data(), B, C, w)
                       : crossentropy(g, P.data(), Y.data(), B, C, w);
  } else if (name == "binary_crossentropy") {
    loss = from_logits ? sigmoid_binary_crossentropy(g, P.data(), Y.data(), B, C, w)
                       : binary_crossentropy(g, P.data(), Y.data(), B, C, w);
  } else if (name == "huber") {
    loss = huber(g, P.data(), Y.data(), B, C, delta, w);
  } else {
    loss = dense.at(name)(g, P.data(), Y.data(), B, C, w);
  }
  return py::make_tuple(loss, grad);
}

}  // namespace

void bind_kernels(py::module_& parent) {
  py::module_ m = parent.def_submodule("kernels", "The engine's kernels on NumPy arrays (float32).");

  m.def("dense_forward", [](py::handle x, py::handle kernel, py::handle bias) {
    auto X = matrix(x, "x");
    auto W = matrix(kernel, "kernel", X.shape(1), -1);
    FloatArray keep;
    const float* b = optional_vector(bias, "bias", W.shape(1), &keep);
    py::array_t<float> y = new_array({X.shape(0), W.shape(1)});
    dense_forward(y.mutable_data(), X.data(), W.data(), b, X.shape(0), X.shape(1), W.shape(1));
    return y;
  }, arg("x"), arg("kernel"), arg("bias") = py::none(), "y = x·kernel + bias");

  m.def("dense_backward", [](py::handle x, py::handle kernel, py::handle dy, bool use_bias) {
    auto X = matrix(x, "x");
    auto W = matrix(kernel, "kernel", X.shape(1), -1);
    auto dY = matrix(dy, "dy", X.shape(0), W.shape(1));
    const int64_t B = X.shape(0), in = X.shape(1), out = W.shape(1);
    py::array_t<float> dx = new_array({B, in}), dW = new_array({in, out}), db = new_array({out});
    dense_backward(dx.mutable_data(), dW.mutable_data(), use_bias ? db.mutable_data() : nullptr,
                   dY.data(), X.data(), W.data(), B, in, out);
    return py::make_tuple(dx, dW, use_bias ? py::object(db) : py::object(py::none()));
  }, arg("x"), arg("kernel"), arg("dy"), arg("use_bias") = true, "(dx, dkernel, dbias)");

  m.def("batchnorm_forward_train", [](py::handle x, py::handle gamma, py::handle beta, double epsilon) {
    auto X = matrix(x, "x");
    const int64_t B = X.shape(0), C = X.shape(1);
    FloatArray kg, kb;
    const float* g = optional_vector(gamma, "gamma", C, &kg);
    const float* b = optional_vector(beta, "beta", C, &kb);
    if (!(epsilon > 0.0)) throw py::value_error("epsilon must be > 0");
    py::array_t<float> y = new_array({B, C}), xhat = new_array({B, C}), mean = new_array({C}),
                       var = new_array({C}), inv_std = new_array({C});
    batchnorm_forward_train(y.mutable_data(), xhat.mutable_data(), mean.mutable_data(), var.mutable_data(),
                            inv_std.mutable_data(), X.data(), g, b, B, C, float(epsilon));
    return py::make_tuple(y, xhat, mean, var, inv_std);
  }, arg("x"), arg("gamma") = py::none(), arg("beta") = py::none(), arg("epsilon") = 1e-3,
     "(y, xhat, batch mean, biased batch variance, 1/sqrt(var + epsilon))");

  m.def("batchnorm_update_moving", [](py::handle moving_mean, py::handle moving_variance, py::handle mean,
                                      py::handle var, py::handle momentum) {
    auto mm = vector(moving_mean, "moving_mean"), mv = vector(moving_variance, "moving_variance", mm.shape(0));
    auto m1 = vector(mean, "mean", mm.shape(0)), v1 = vector(var, "var", mm.shape(0));
    const double mom = number_in(momentum, "momentum", 0.0, 1.0, false);
    const int64_t C = mm.shape(0);
    py::array_t<float> new_mm = new_array({C}), new_mv = new_array({C});
    std::copy(mm.data(), mm.data() + C, new_mm.mutable_data());
    std::copy(mv.data(), mv.data() + C, new_mv.mutable_data());
    batchnorm_update_moving(new_mm.mutable_data(), new_mv.mutable_data(), m1.data(), v1.data(), C, mom);
    return py::make_tuple(new_mm, new_mv);
  }, arg("moving_mean"), arg("moving_variance"), arg("mean"), arg("var"), arg("momentum") = 0.99,
     "moving·momentum + batch·(1 − momentum), for both statistics");

  m.def("batchnorm_forward_infer", [](py::handle x, py::handle gamma, py::handle beta, py::handle moving_mean,
                                      py::handle moving_variance, double epsilon) {
    auto X = matrix(x, "x");
    const int64_t B = X.shape(0), C = X.shape(1);
    FloatArray kg, kb;
    const float* g = optional_vector(gamma, "gamma", C, &kg);
    const float* b = optional_vector(beta, "beta", C, &kb);
    auto mm = vector(moving_mean, "moving_mean", C), mv = vector(moving_variance, "moving_variance", C);
    if (!(epsilon > 0.0)) throw py::value_error("epsilon must be > 0");
    py::array_t<float> y = new_array({B, C}), scale = new_array({C}), shift = new_array({C});
    batchnorm_inference_coefficients(scale.mutable_data(), shift.mutable_data(), g, b, mm.data(), mv.data(), C, float(epsilon));
    batchnorm_forward_infer(y.mutable_data(), X.data(), scale.data(), shift.data(), B, C);
    return y;
  }, arg("x"), arg("gamma"), arg("beta"), arg("moving_mean"), arg("moving_variance"), arg("epsilon") = 1e-3);

  m.def("batchnorm_backward", [](py::handle dy, py::handle xhat, py::handle inv_std, py::handle gamma) {
    auto dY = matrix(dy, "dy");
    const int64_t B = dY.shape(0), C = dY.shape(1);
    auto H = matrix(xhat, "xhat", B, C);
    auto inv = vector(inv_std, "inv_std", C);
    FloatArray kg;
    const float* g = optional_vector(gamma, "gamma", C, &kg);
    py::array_t<float> dx = new_array({B, C}), dgamma = new_array({C}), dbeta = new_array({C});
    batchnorm_backward(dx.mutable_data(), dgamma.mutable_data(), dbeta.mutable_data(), dY.data(), H.data(),
                       inv.data(), g, B, C);
    return py::make_tuple(dx, dgamma, dbeta);
  }, arg("dy"), arg("xhat"), arg("inv_std"), arg("gamma") = py::none(), "(dx, dgamma, dbeta)");

  m.def("activation_forward", [](const std::string& name, py::handle x, py::kwargs kwargs) {
    Activation f;
    ActivationParams p;
    activation_from_kwargs(name, kwargs, &f, &p);
    auto X = matrix(x, "x");
    py::array_t<float> y = new_array({X.shape(0), X.shape(1)});
    activation_forward(f, p, y.mutable_data(), X.data(), X.shape(0), X.shape(1));
    return y;
  }, arg("name"), arg("x"), "f(x) for a named activation; keyword parameters as in the engine's op dicts.");

  m.def("activation_backward", [](const std::string& name, py::handle x, py::handle y, py::handle dy, py::kwargs kwargs) {
    Activation f;
    ActivationParams p;
    activation_from_kwargs(name, kwargs, &f, &p);
    auto X = matrix(x, "x");
    auto Y = matrix(y, "y", X.shape(0), X.shape(1)), dY = matrix(dy, "dy", X.shape(0), X.shape(1));
    py::array_t<float> dx = new_array({X.shape(0), X.shape(1)});
    activation_backward(f, p, dx.mutable_data(), dY.data(), X.data(), Y.data(), X.shape(0), X.shape(1));
    return dx;
  }, arg("name"), arg("x"), arg("y"), arg("dy"), "dy·f′(x), given x and y = f(x)");

  m.def("prelu_forward", [](py::handle x, py::handle alpha) {
    auto X = matrix(x, "x");
    auto A = vector(alpha, "alpha");
    if (A.shape(0) != 1 && A.shape(0) != X.shape(1)) throw py::value_error("alpha must have 1 or x.shape[1] entries");
    py::array_t<float> y = new_array({X.shape(0), X.shape(1)});
    prelu_forward(y.mutable_data(), X.data(), A.data(), A.shape(0), X.shape(0), X.shape(1));
    return y;
  }, arg("x"), arg("alpha"));

  m.def("prelu_backward", [](py::handle x, py::handle alpha, py::handle dy) {
    auto X = matrix(x, "x");
    auto A = vector(alpha, "alpha");
    if (A.shape(0) != 1 && A.shape(0) != X.shape(1)) throw py::value_error("alpha must have 1 or x.shape[1] entries");
    auto dY = matrix(dy, "dy", X.shape(0), X.shape(1));
    py::array_t<float> dx = new_array({X.shape(0), X.shape(1)}), dalpha = new_array({A.shape(0)});
    prelu_backward(dx.mutable_data(), dalpha.mutable_data(), dY.data(), X.data(), A.data(), A.shape(0), X.shape(0), X.shape(1));
    return py::make_tuple(dx, dalpha);
  }, arg("x"), arg("alpha"), arg("dy"), "(dx, dalpha)");

  m.def("rrelu_forward", [](py::handle x, py::handle lower, py::handle upper, bool training, py::handle seed, py::handle stream) {
    auto X = any_array(x, "x");
    const double lo = finite_number(lower, "lower"), hi = finite_number(upper, "upper");
    if (lo > hi) throw py::value_error("lower must be <= upper");
    py::array_t<float> y = new_array(std::vector<int64_t>(X.shape(), X.shape() + X.ndim()));
    py::array_t<float> mult = new_array(std::vector<int64_t>(X.shape(), X.shape() + X.ndim()));
    rrelu_forward(y.mutable_data(), mult.mutable_data(), X.data(), X.size(), float(lo), float(hi), training,
                  seed_of(seed, "seed"), seed_of(stream, "stream"));
    return py::make_tuple(y, mult);
  }, arg("x"), arg("lower") = 1.0 / 8.0, arg("upper") = 1.0 / 3.0, arg("training") = true, arg("seed") = 0, arg("stream") = 0,
     "(y, multiplier) with multiplier = dy/dx");

  auto bind_dropout = [&m](const char* name, auto forward) {
    m.def(name, [forward](py::handle x, py::handle rate, py::handle seed, py::handle stream) {
      auto X = any_array(x, "x");
      const double r = number_in(rate, "rate", 0.0, 1.0, true);
      std::vector<int64_t> shape(X.shape(), X.shape() + X.ndim());
      py::array_t<float> y = new_array(shape), mask = new_array(shape);
      forward(y.mutable_data(), mask.mutable_data(), X.data(), X.size(), r, seed_of(seed, "seed"), seed_of(stream, "stream"),
              0);
      return py::make_tuple(y, mask);
    }, arg("x"), arg("rate"), arg("seed") = 0, arg("stream") = 0, "(y, mask) with mask = dy/dx (training mode)");
  };
  bind_dropout("dropout_forward", dropout_forward);
  bind_dropout("alpha_dropout_forward", alpha_dropout_forward);

  m.def("mask_backward", [](py::handle dy, py::handle mask) {
    auto dY = any_array(dy, "dy"), M = any_array(mask, "mask");
    if (M.size() != dY.size()) throw py::value_error("mask must have the shape of dy");
    py::array_t<float> dx = new_array(std::vector<int64_t>(dY.shape(), dY.shape() + dY.ndim()));
    mask_backward(dx.mutable_data(), dY.data(), M.data(), dY.size());
    return dx;
  }, arg("dy"), arg("mask"), "dy·mask (dropout, alpha dropout and RReLU backward)");

  m.def("loss", &loss_and_gradient, arg("name"), arg("y_true"), arg("y_pred"), arg("from_logits") = false,
        arg("sample_weight") = py::none(), arg("delta") = 1.0,
        "(mean loss, d loss / d y_pred) for a named Keras loss; with sample_weight, Σ w·L / rows.");

  m.def("accuracy_hits", [](const std::string& metric, py::handle y_true, py::handle y_pred, double threshold) {
    if (metric != "sparse_categorical_accuracy" && metric != "categorical_accuracy" && metric != "binary_accuracy") {
      throw py::value_error("unknown metric '" + metric + "'; known: binary_accuracy, categorical_accuracy, "
                            "sparse_categorical_accuracy");
    }
    auto P = matrix(y_pred, "y_pred");
    const int64_t B = P.shape(0), C = P.shape(1);
    require_columns(C, "y_pred");
    if (metric == "sparse_categorical_accuracy") {
      auto t = labels(y_true, "y_true", B, C);
      return double(sparse_categorical_hits(P.data(), t.data(), B, C));
    }
    auto Y = matrix(y_true, "y_true", B, C);
    if (metric == "categorical_accuracy") return double(categorical_hits(P.data(), Y.data(), B, C));
    return binary_hits(P.data(), Y.data(), B, C, float(threshold));
  }, arg("metric"), arg("y_true"), arg("y_pred"), arg("threshold") = 0.5);

  m.def("regularize", [](py::handle w, py::handle l1, py::handle l2) {
    auto W = any_array(w, "w");
    const double a = number_in(l1, "l1", 0.0, INFINITY, false), b = number_in(l2, "l2", 0.0, INFINITY, false);
    py::array_t<float> g = new_array(std::vector<int64_t>(W.shape(), W.shape() + W.ndim()));
    const double penalty = regularize(g.mutable_data(), W.data(), W.size(), float(a), float(b));
    return py::make_tuple(penalty, g);
  }, arg("w"), arg("l1") = 0.0, arg("l2") = 0.0, "(l1·Σ|w| + l2·Σw², its gradient)");

  m.def("non_neg_constraint", [](py::handle w) {
    auto W = any_array(w, "w");
    py::array_t<float> out = new_array(std::vector<int64_t>(W.shape(), W.shape() + W.ndim()));
    std::copy(W.data(), W.data() + W.size(), out.mutable_data());
    non_neg_constraint(out.mutable_data(), W.size());
    return out;
  }, arg("w"), "max(w, 0)");

  m.def("min_max_norm_constraint", [](py::handle w, py::handle axis, py::handle min_value, py::handle max_value,
                                      py::handle rate) {
    auto W = matrix(w, "w");
    const int a = int(integer_in(axis, "axis", 0, 1));
    const double lo = number_in(min_value, "min_value", 0.0, INFINITY, false);
    const double hi = number_in(max_value, "max_value", 0.0, INFINITY, false);
    const double r = number_in(rate, "rate", 0.0, 1.0, false);
    if (lo > hi) throw py::value_error("min_value must be <= max_value");
    py::array_t<float> out = new_array({W.shape(0), W.shape(1)});
    std::copy(W.data(), W.data() + W.size(), out.mutable_data());
    min_max_norm_constraint(out.mutable_data(), W.shape(0), W.shape(1), a, float(lo), float(hi), float(r));
    return out;
  }, arg("w"), arg("axis") = 0, arg("min_value") = 0.0, arg("max_value") = 1.0, arg("rate") = 1.0,
     "w (rows, cols) rescaled so each norm over `axis` moves to rate·clip(norm, min, max) + (1 − rate)·norm");

  m.def("optimizer_steps", [](py::handle optimizer, py::handle weights, py::handle gradients, py::handle learning_rates) {
    const OptimizerSpec spec = parse_optimizer(optimizer);
    auto W = vector(weights, "weights");
    const int64_t n = W.shape(0);
    auto G = matrix(gradients, "gradients", -1, n);
    const int64_t T = G.shape(0);
    auto LR = vector(learning_rates, "learning_rates", T);
    for (int64_t t = 0; t < T; ++t) {
      if (!std::isfinite(LR.data()[t])) throw py::value_error("learning_rates must be finite");
    }
    ParamStore store;
    store.add({"w", 0, n, 0, true});
    store.allocate();
    std::copy(W.data(), W.data() + n, store.value(0));
    Optimizer opt(spec, store.trainable_size());
    for (int64_t t = 0; t < T; ++t) {
      std::copy(G.data() + t * n, G.data() + (t + 1) * n, store.grad(0));
      opt.step(store, LR.data()[t], t + 1);
    }
    py::array_t<float> w_out = new_array({n});
    std::copy(store.value(0), store.value(0) + n, w_out.mutable_data());
    py::dict slots;
    for (Optimizer::Slot& s : opt.slots()) {
      py::array_t<float> a = new_array({n});
      std::copy(s.buffer.data(), s.buffer.data() + n, a.mutable_data());
      slots[py::str(s.name)] = a;
    }
    return py::make_tuple(w_out, slots);
  }, arg("optimizer"), arg("weights"), arg("gradients"), arg("learning_rates"),
     "Runs len(gradients) steps of an optimizer (a dict as for Network) on one flat weight vector; "
     "returns (weights, {slot: state}).");
}

}  // namespace fastdnn::bind
