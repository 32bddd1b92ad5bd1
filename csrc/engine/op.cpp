#include "engine/op.h"

namespace fastdnn {

std::unique_ptr<Op> make_op(const OpSpec& spec) {
  switch (spec.kind) {
    case OpKind::Dense: return make_dense(spec);
    case OpKind::BatchNorm: return make_batchnorm(spec);
    case OpKind::Activation: return make_activation(spec);
    case OpKind::PReLU: return make_prelu(spec);
    case OpKind::RReLU: return make_rrelu(spec);
    case OpKind::Dropout:
    case OpKind::AlphaDropout: return make_dropout(spec);
    case OpKind::Normalization: return make_normalization(spec);
    case OpKind::Rescaling: return make_rescaling(spec);
    case OpKind::GaussianNoise:
    case OpKind::GaussianDropout: return make_gaussian_noise(spec);
    case OpKind::ActivityRegularization: return make_activity_regularization(spec);
    case OpKind::LayerNorm: return make_layernorm(spec);
    case OpKind::Concatenate:
    case OpKind::Add:
    case OpKind::Subtract:
    case OpKind::Multiply:
    case OpKind::Average:
    case OpKind::Maximum:
    case OpKind::Minimum: return make_merge(spec);
    case OpKind::Identity: return make_identity(spec);
  }
  return nullptr;
}

bool is_merge(OpKind kind) { return kind >= OpKind::Concatenate && kind <= OpKind::Minimum; }

}  // namespace fastdnn
