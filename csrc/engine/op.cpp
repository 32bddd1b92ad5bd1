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
  }
  return nullptr;
}

}  // namespace fastdnn
