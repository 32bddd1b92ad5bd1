#include "bindings/specs.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

namespace fastdnn::bind {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr int64_t kMaxWidth = (int64_t(1) << 31) - 1;

template <class T>
T lookup(const std::map<std::string, T>& table, const std::string& key, const std::string& what) {
  auto it = table.find(key);
  if (it != table.end()) return it->second;
  std::string known;
  for (const auto& kv : table) known += (known.empty() ? "" : ", ") + kv.first;
  throw py::value_error("unknown " + what + " '" + key + "'; known: " + known);
}

Regularizer read_regularizer(Settings& s, const std::string& prefix) {
  Regularizer r;
  r.l1 = float(s.number((prefix + "_l1").c_str(), 0.0, 0.0, kInf));
  r.l2 = float(s.number((prefix + "_l2").c_str(), 0.0, 0.0, kInf));
  return r;
}

// An optional constraint `<prefix>_constraint`: {'kind': 'max_norm' | 'non_neg' | 'unit_norm' |
// 'min_max_norm', 'axis': 0 | 1 | 'all', 'min_value', 'max_value', 'rate'} as Keras names them.
// axis 1 (one norm per row) needs a kernel; Python resolves Keras' axis against the weight's rank.
Constraint read_constraint(Settings& s, const std::string& prefix, bool matrix) {
  static const std::map<std::string, Constraint::Kind> kinds = {
      {"max_norm", Constraint::Kind::MinMaxNorm}, {"min_max_norm", Constraint::Kind::MinMaxNorm},
      {"unit_norm", Constraint::Kind::MinMaxNorm}, {"non_neg", Constraint::Kind::NonNeg},
  };
  const std::string key = prefix + "_constraint";
  Constraint c;
  if (!s.has(key.c_str())) {
    s.get(key.c_str());
    return c;
  }
  Settings cs(s.get(key.c_str()), s.name(key.c_str()));
  const std::string kind = cs.string("kind", "");
  c.kind = lookup(kinds, kind, "constraint");
  if (c.kind == Constraint::Kind::MinMaxNorm) {
    py::handle axis = cs.get("axis");
    if (py::isinstance<py::str>(axis) && axis.cast<std::string>() == "all") {
      c.over = Constraint::Over::All;
    } else {
      const int64_t a = axis.is_none() ? 0 : integer_in(axis, cs.name("axis").c_str(), 0, matrix ? 1 : 0);
      c.over = a == 0 ? Constraint::Over::Rows : Constraint::Over::Columns;
    }
  }
  if (kind == "max_norm") {
    c.max_value = float(cs.number("max_value", 2.0, 0.0, kInf));
  } else if (kind == "unit_norm") {
    c.min_value = c.max_value = 1.0f;
  } else if (kind == "min_max_norm") {
    c.min_value = float(cs.number("min_value", 0.0, 0.0, kInf));
    c.max_value = float(cs.number("max_value", 1.0, 0.0, kInf));
    c.rate = float(cs.number("rate", 1.0, 0.0, 1.0));
    if (c.min_value > c.max_value) throw py::value_error(cs.name("min_value") + " must be <= max_value");
  }
  cs.finish();
  return c;
}

uint64_t read_seed(Settings& s, int index) {
  py::handle v = s.get("seed");
  if (v.is_none()) return 0x9E3779B97F4A7C15ull * uint64_t(index + 1);  // distinct per op
  return uint64_t(integer_in(v, s.name("seed").c_str(), 0, std::numeric_limits<int64_t>::max()));
}

// A list of finite numbers (one per feature) at `key`; `low` bounds them from below.
std::vector<float> read_values(Settings& s, const char* key, double low) {
  if (!s.has(key)) throw py::value_error(s.name(key) + " is required");
  FloatArray a = vector(s.get(key), s.name(key).c_str());
  for (int64_t i = 0; i < a.size(); ++i) {
    if (!(std::isfinite(a.data()[i]) && a.data()[i] >= low)) {
      throw py::value_error(s.name(key) + "[" + std::to_string(i) + "] must be finite and >= " +
                            std::to_string(low) + "; got " + std::to_string(a.data()[i]));
    }
  }
  return std::vector<float>(a.data(), a.data() + a.size());
}

}  // namespace

void read_activation(Settings& s, Activation* f, ActivationParams* p) {
  static const std::map<std::string, Activation> names = {
      {"linear", Activation::Linear},         {"relu", Activation::ReLU},
      {"leaky_relu", Activation::ReLU},       {"relu6", Activation::ReLU},
      {"elu", Activation::ELU},               {"selu", Activation::SELU},
      {"sigmoid", Activation::Sigmoid},       {"tanh", Activation::Tanh},
      {"softmax", Activation::Softmax},       {"softplus", Activation::Softplus},
      {"softsign", Activation::Softsign},     {"swish", Activation::Swish},
      {"silu", Activation::Swish},            {"gelu", Activation::GELU},
      {"hard_sigmoid", Activation::HardSigmoid}, {"hard_swish", Activation::HardSwish},
      {"hard_silu", Activation::HardSwish},   {"exponential", Activation::Exponential},
  };
  // The parameters each activation takes (Keras' keyword arguments).
  static const std::map<std::string, std::vector<std::string>> takes = {
      {"relu", {"negative_slope", "max_value", "threshold"}},
      {"leaky_relu", {"negative_slope"}},
      {"elu", {"alpha"}},
      {"gelu", {"approximate"}},
  };
  const std::string name = s.string("activation", "linear");
  *f = lookup(names, name, "activation");
  const auto it = takes.find(name);
  const std::vector<std::string> allowed = it == takes.end() ? std::vector<std::string>{} : it->second;
  for (const char* key : {"alpha", "negative_slope", "max_value", "threshold", "approximate"}) {
    if (!s.has(key) || std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    std::string list;
    for (const std::string& a : allowed) list += (list.empty() ? "" : ", ") + a;
    throw py::value_error(s.name(key) + " does not apply to activation '" + name + "' (it takes " +
                          (list.empty() ? std::string("no parameters") : list) + ")");
  }
  // Keras' defaults: activations.leaky_relu's slope is 0.2 (the LeakyReLU layer's 0.3 is set by Python).
  p->alpha = float(s.number("alpha", 1.0, -kInf, kInf));
  p->negative_slope = float(s.number("negative_slope", name == "leaky_relu" ? 0.2 : 0.0, -kInf, kInf));
  p->max_value = float(s.number("max_value", name == "relu6" ? 6.0 : kInf, 0.0, kInf));
  p->threshold = float(s.number("threshold", 0.0, -kInf, kInf));
  if (s.flag("approximate", false)) *f = Activation::GELUTanh;
}

OpSpec parse_op(py::handle obj, int index) {
  static const std::map<std::string, OpKind> kinds = {
      {"dense", OpKind::Dense},       {"batch_normalization", OpKind::BatchNorm},
      {"activation", OpKind::Activation}, {"prelu", OpKind::PReLU},
      {"rrelu", OpKind::RReLU},       {"dropout", OpKind::Dropout},
      {"alpha_dropout", OpKind::AlphaDropout}, {"normalization", OpKind::Normalization},
      {"rescaling", OpKind::Rescaling}, {"gaussian_noise", OpKind::GaussianNoise},
      {"gaussian_dropout", OpKind::GaussianDropout},
      {"activity_regularization", OpKind::ActivityRegularization},
      {"layer_normalization", OpKind::LayerNorm},
      {"concatenate", OpKind::Concatenate}, {"add", OpKind::Add}, {"subtract", OpKind::Subtract},
      {"multiply", OpKind::Multiply}, {"average", OpKind::Average}, {"maximum", OpKind::Maximum},
      {"minimum", OpKind::Minimum}, {"identity", OpKind::Identity},
  };
  Settings s(obj, "ops[" + std::to_string(index) + "]");
  OpSpec op;
  op.kind = lookup(kinds, s.string("kind", ""), "op kind");
  read_graph_keys(s, &op);  // inputs, shares, blocks (specs_graph.cpp)
  op.trainable = s.flag("trainable", true);
  if (s.has("training")) op.fixed_training = s.flag("training", false) ? 1 : 0;
  switch (op.kind) {
    case OpKind::Dense:
      if (!s.has("units")) throw py::value_error(s.name("units") + " is required for a dense op");
      op.units = s.integer("units", 0, 1, kMaxWidth);
      op.use_bias = s.flag("use_bias", true);
      op.kernel_regularizer = read_regularizer(s, "kernel");
      op.bias_regularizer = read_regularizer(s, "bias");
      op.kernel_constraint = read_constraint(s, "kernel", true);
      op.bias_constraint = read_constraint(s, "bias", false);
      break;
    case OpKind::BatchNorm:
      op.momentum = s.number("momentum", 0.99, 0.0, 1.0);
      op.epsilon = s.number("epsilon", 1e-3, 0.0, kInf);
      if (op.epsilon <= 0.0) throw py::value_error(s.name("epsilon") + " must be > 0");
      op.center = s.flag("center", true);
      op.scale = s.flag("scale", true);
      op.gamma_constraint = read_constraint(s, "gamma", false);
      op.beta_constraint = read_constraint(s, "beta", false);
      break;
    case OpKind::Activation:
      read_activation(s, &op.activation, &op.activation_params);
      break;
    case OpKind::PReLU:
      op.shared_alpha = s.flag("shared_alpha", false);
      op.alpha_regularizer = read_regularizer(s, "alpha");
      op.alpha_constraint = read_constraint(s, "alpha", false);
      break;
    case OpKind::RReLU:
      op.lower = s.number("lower", 1.0 / 8.0, -kInf, kInf);
      op.upper = s.number("upper", 1.0 / 3.0, -kInf, kInf);
      if (op.lower > op.upper) throw py::value_error(s.name("lower") + " must be <= upper");
      op.seed = read_seed(s, index);
      break;
    case OpKind::Dropout:
    case OpKind::AlphaDropout:
      op.rate = s.number("rate", 0.0, 0.0, 1.0, /*high_open=*/true);
      op.seed = read_seed(s, index);
      break;
    case OpKind::Normalization:
      op.invert = s.flag("invert", false);
      op.shared_statistics = s.flag("shared_statistics", false);
      op.epsilon = s.number("epsilon", 1e-7, 0.0, kInf);
      if (op.epsilon <= 0.0) throw py::value_error(s.name("epsilon") + " must be > 0");
      if (s.has("mean") || s.has("variance")) {
        op.mean = read_values(s, "mean", -kInf);
        op.variance = read_values(s, "variance", 0.0);
        if (op.shared_statistics) throw py::value_error(s.name("shared_statistics") + " applies to adapted weights; "
                                                        "give constant mean and variance one value per feature");
      }
      break;
    case OpKind::Rescaling:
      op.multiplier = read_values(s, "scale", -kInf);
      op.offset = read_values(s, "offset", -kInf);
      break;
    case OpKind::GaussianNoise:
      op.stddev = s.number("stddev", 0.0, 0.0, kInf);
      op.seed = read_seed(s, index);
      break;
    case OpKind::GaussianDropout:
      op.rate = s.number("rate", 0.0, 0.0, 1.0, /*high_open=*/true);
      op.seed = read_seed(s, index);
      break;
    case OpKind::ActivityRegularization:
      op.l1 = s.number("l1", 0.0, 0.0, kInf);
      op.l2 = s.number("l2", 0.0, 0.0, kInf);
      break;
    default:  // the merge ops and identity: no settings but their graph keys
      break;
    case OpKind::LayerNorm:
      op.epsilon = s.number("epsilon", 1e-3, 0.0, kInf);
      if (op.epsilon <= 0.0) throw py::value_error(s.name("epsilon") + " must be > 0");
      op.center = s.flag("center", true);
      op.scale = s.flag("scale", true);
      op.rms_scaling = s.flag("rms_scaling", false);
      op.gamma_regularizer = read_regularizer(s, "gamma");
      op.beta_regularizer = read_regularizer(s, "beta");
      op.gamma_constraint = read_constraint(s, "gamma", false);
      op.beta_constraint = read_constraint(s, "beta", false);
      break;
  }
  s.finish();
  return op;
}

LossSpec parse_loss(py::handle obj) {
  static const std::map<std::string, LossKind> kinds = {
      {"sparse_categorical_crossentropy", LossKind::SparseCategoricalCrossentropy},
      {"categorical_crossentropy", LossKind::CategoricalCrossentropy},
      {"binary_crossentropy", LossKind::BinaryCrossentropy},
      {"mean_squared_error", LossKind::MeanSquaredError},
      {"mean_absolute_error", LossKind::MeanAbsoluteError},
      {"huber", LossKind::Huber},
      {"log_cosh", LossKind::LogCosh},
      {"kl_divergence", LossKind::KLDivergence},
      {"poisson", LossKind::Poisson},
      {"hinge", LossKind::Hinge},
      {"squared_hinge", LossKind::SquaredHinge},
      {"mean_absolute_percentage_error", LossKind::MeanAbsolutePercentageError},
      {"mean_squared_logarithmic_error", LossKind::MeanSquaredLogarithmicError},
      {"cosine_similarity", LossKind::CosineSimilarity},
  };
  static const std::map<std::string, MetricKind> metrics = {
      {"none", MetricKind::None},
      {"sparse_categorical_accuracy", MetricKind::SparseCategoricalAccuracy},
      {"categorical_accuracy", MetricKind::CategoricalAccuracy},
      {"binary_accuracy", MetricKind::BinaryAccuracy},
  };
  Settings s(obj, "loss");
  LossSpec loss;
  loss.kind = lookup(kinds, s.string("kind", ""), "loss");
  loss.from_logits = s.flag("from_logits", false);
  loss.metric = lookup(metrics, s.string("metric", "none"), "metric");
  loss.threshold = float(s.number("threshold", 0.5, -kInf, kInf));
  if (loss.kind == LossKind::Huber) loss.delta = s.number("delta", 1.0, -kInf, kInf);
  const bool sparse = loss.kind == LossKind::SparseCategoricalCrossentropy;
  if (sparse != (loss.metric == MetricKind::SparseCategoricalAccuracy) && loss.metric != MetricKind::None) {
    throw py::value_error("metric '" + s.string("metric", "") +
                          (sparse ? "' needs one-hot or dense targets, but the loss takes integer labels"
                                  : "' needs integer labels, but the loss takes dense targets"));
  }
  if (loss.from_logits && loss.kind != LossKind::BinaryCrossentropy && !sparse &&
      loss.kind != LossKind::CategoricalCrossentropy) {
    throw py::value_error("from_logits applies to the cross-entropy losses only");
  }
  s.finish();
  return loss;
}

OptimizerSpec parse_optimizer(py::handle obj) {
  static const std::map<std::string, OptimizerKind> kinds = {
      {"sgd", OptimizerKind::SGD},         {"adam", OptimizerKind::Adam},
      {"adamw", OptimizerKind::AdamW},     {"rmsprop", OptimizerKind::RMSprop},
      {"adagrad", OptimizerKind::Adagrad}, {"adadelta", OptimizerKind::Adadelta},
      {"adamax", OptimizerKind::Adamax},   {"nadam", OptimizerKind::Nadam},
  };
  Settings s(obj, "optimizer");
  OptimizerSpec o;
  o.kind = lookup(kinds, s.string("kind", ""), "optimizer");
  const bool is_sgd = o.kind == OptimizerKind::SGD, is_rms = o.kind == OptimizerKind::RMSprop;
  const bool adam_like = o.kind == OptimizerKind::Adam || o.kind == OptimizerKind::AdamW ||
                         o.kind == OptimizerKind::Adamax || o.kind == OptimizerKind::Nadam;
  if (is_sgd || is_rms) o.momentum = s.number("momentum", 0.0, 0.0, 1.0);
  if (is_sgd) o.nesterov = s.flag("nesterov", false);
  if (adam_like) {
    o.beta_1 = s.number("beta_1", 0.9, 0.0, 1.0, true);
    o.beta_2 = s.number("beta_2", 0.999, 0.0, 1.0, true);
  }
  if (!is_sgd) o.epsilon = s.number("epsilon", 1e-7, 0.0, kInf);
  if (o.kind == OptimizerKind::Adam || o.kind == OptimizerKind::AdamW) o.amsgrad = s.flag("amsgrad", false);
  if (is_rms || o.kind == OptimizerKind::Adadelta) {
    o.rho = s.number("rho", o.kind == OptimizerKind::Adadelta ? 0.95 : 0.9, 0.0, 1.0);
  }
  if (is_rms) o.centered = s.flag("centered", false);
  if (o.kind == OptimizerKind::Adagrad) {
    o.initial_accumulator_value = s.number("initial_accumulator_value", 0.1, 0.0, kInf);
  }
  o.weight_decay = s.number("weight_decay", o.kind == OptimizerKind::AdamW ? 0.004 : 0.0, 0.0, kInf);
  o.clipnorm = s.number("clipnorm", 0.0, 0.0, kInf);
  o.clipvalue = s.number("clipvalue", 0.0, 0.0, kInf);
  o.global_clipnorm = s.number("global_clipnorm", 0.0, 0.0, kInf);
  if (o.clipnorm > 0.0 && o.global_clipnorm > 0.0) {
    throw py::value_error("optimizer: clipnorm and global_clipnorm cannot both be set (as in Keras)");
  }
  s.finish();
  return o;
}

}  // namespace fastdnn::bind
