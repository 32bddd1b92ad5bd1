#include "engine/optimizer.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/gradient_transforms.h"
#include "kernels/optimizers.h"

namespace fastdnn {

namespace {
// The state each optimizer keeps, named as Keras names its variables.
std::vector<std::string> slot_names(const OptimizerSpec& s) {
  switch (s.kind) {
    case OptimizerKind::SGD:
      return s.momentum != 0.0 ? std::vector<std::string>{"momentum"} : std::vector<std::string>{};
    case OptimizerKind::Adam:
    case OptimizerKind::AdamW:
      if (s.amsgrad) return {"momentum", "velocity", "velocity_hat"};
      return {"momentum", "velocity"};
    case OptimizerKind::RMSprop: {
      std::vector<std::string> names{"velocity"};
      if (s.momentum > 0.0) names.push_back("momentum");
      if (s.centered) names.push_back("average_gradient");
      return names;
    }
    case OptimizerKind::Adagrad: return {"accumulator"};
    case OptimizerKind::Adadelta: return {"accumulated_grad", "accumulated_delta_var"};
    case OptimizerKind::Adamax: return {"m", "norm"};
    case OptimizerKind::Nadam: return {"momentum", "velocity"};
  }
  return {};
}
}  // namespace

Optimizer::Optimizer(const OptimizerSpec& spec, int64_t size) : spec_(spec), size_(size) {
  for (const std::string& name : slot_names(spec)) {
    slots_.push_back({name, AlignedBuffer()});
    slots_.back().buffer.reserve(std::max<int64_t>(size, 1));
  }
  if (spec.kind == OptimizerKind::Adagrad) {
    std::fill(slot("accumulator"), slot("accumulator") + size, float(spec.initial_accumulator_value));
  }
}

float* Optimizer::slot(const char* name) {
  for (Slot& s : slots_) {
    if (s.name == name) return s.buffer.data();
  }
  return nullptr;
}

// Keras' _clip_gradients: clipnorm, else global_clipnorm, else clipvalue.
void Optimizer::clip(ParamStore& params) {
  float* g = params.trainable_grads();
  if (spec_.clipnorm > 0.0) {  // g·c/max(‖g‖, c), per variable
    for (const ParamInfo& p : params.infos()) {
      if (!p.trainable) continue;
      const double norm = std::sqrt(sum_of_squares(g + p.offset, p.size()));
      if (norm > spec_.clipnorm) scale_in_place(g + p.offset, p.size(), float(spec_.clipnorm / norm));
    }
  } else if (spec_.global_clipnorm > 0.0) {  // the same over all gradients
    const double norm = std::sqrt(sum_of_squares(g, size_));
    if (norm > spec_.global_clipnorm) scale_in_place(g, size_, float(spec_.global_clipnorm / norm));
  } else if (spec_.clipvalue > 0.0) {
    clip_by_value(g, size_, float(spec_.clipvalue));
  }
}

void Optimizer::step(ParamStore& params, double lr, int64_t t) {
  if (size_ == 0) return;
  float* w = params.trainable_values();
  const float* g = params.trainable_grads();
  clip(params);
  if (spec_.weight_decay > 0.0) decay_weights(w, size_, float(lr * spec_.weight_decay));
  const OptimizerSpec& s = spec_;
  switch (s.kind) {
    case OptimizerKind::SGD:
      sgd_update(w, g, slot("momentum"), size_, lr, s.momentum, s.nesterov);
      break;
    case OptimizerKind::Adam:
    case OptimizerKind::AdamW:
      adam_update(w, g, slot("momentum"), slot("velocity"), slot("velocity_hat"), size_, lr,
                  s.beta_1, s.beta_2, s.epsilon, t);
      break;
    case OptimizerKind::RMSprop:
      rmsprop_update(w, g, slot("velocity"), slot("momentum"), slot("average_gradient"), size_, lr,
                     s.rho, s.momentum, s.epsilon);
      break;
    case OptimizerKind::Adagrad:
      adagrad_update(w, g, slot("accumulator"), size_, lr, s.epsilon);
      break;
    case OptimizerKind::Adadelta:
      adadelta_update(w, g, slot("accumulated_grad"), slot("accumulated_delta_var"), size_, lr,
                      s.rho, s.epsilon);
      break;
    case OptimizerKind::Adamax:
      adamax_update(w, g, slot("m"), slot("norm"), size_, lr, s.beta_1, s.beta_2, s.epsilon, t);
      break;
    case OptimizerKind::Nadam:
      u_product_ = nadam_advance_u_product(u_product_, s.beta_1, t);
      nadam_update(w, g, slot("momentum"), slot("velocity"), size_, lr, s.beta_1, s.beta_2,
                   s.epsilon, t, u_product_);
      break;
  }
}

}  // namespace fastdnn
