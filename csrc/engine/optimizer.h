// The optimizer of a network: its state, parallel to the flat trainable buffer,
// and one step over it in Keras' order (clip, decay, update).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/buffer.h"
#include "engine/params.h"

namespace fastdnn {

enum class OptimizerKind { SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta, Adamax, Nadam };

// Keras 3's defaults; rho is RMSprop's (Adadelta's default of 0.95 is set by the caller).
struct OptimizerSpec {
  OptimizerKind kind = OptimizerKind::SGD;
  double momentum = 0.0;  // SGD, RMSprop
  bool nesterov = false;  // SGD
  double beta_1 = 0.9, beta_2 = 0.999;
  double epsilon = 1e-7;
  bool amsgrad = false;                    // Adam, AdamW
  double rho = 0.9;                        // RMSprop, Adadelta
  bool centered = false;                   // RMSprop
  double initial_accumulator_value = 0.1;  // Adagrad
  double weight_decay = 0.0;               // decoupled; AdamW's default of 0.004 is set by the caller
  double clipnorm = 0.0, clipvalue = 0.0, global_clipnorm = 0.0;  // 0: off; at most one applies
};

class Optimizer {
 public:
  Optimizer(const OptimizerSpec& spec, int64_t size);

  // One update of the trainable values from their gradients; t = iterations + 1.
  void step(ParamStore& params, double learning_rate, int64_t t);

  // Named state buffers, each `size` floats laid out like the trainable buffer,
  // and Nadam's running product of momentum coefficients.
  struct Slot {
    std::string name;
    AlignedBuffer buffer;
  };
  std::vector<Slot>& slots() { return slots_; }
  double& u_product() { return u_product_; }
  const OptimizerSpec& spec() const { return spec_; }

 private:
  float* slot(const char* name);
  void clip(ParamStore& params);
  OptimizerSpec spec_;
  int64_t size_;
  std::vector<Slot> slots_;
  double u_product_ = 1.0;
};

}  // namespace fastdnn
