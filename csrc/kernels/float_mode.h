// The floating-point mode the engine computes in: subnormal numbers (below
// 1.2e-38) flushed to zero, as TensorFlow does under Keras.
//
// Why: on x86 every operation that produces or reads a subnormal takes a
// microcode assist, 50-100x slower. Long training runs fill optimizer state and
// small activations with them (Adam's second moments, ELU/SELU of very negative
// inputs); without flushing, a step was measured to slow down 16x over a few
// hundred steps. The workers of the thread pool take the caller's mode for each
// job, so results stay independent of the thread count.
#pragma once

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>

namespace fastdnn {

inline unsigned float_mode() { return _mm_getcsr(); }
inline void set_float_mode(unsigned mode) { _mm_setcsr(mode); }
constexpr unsigned kFlushToZero = 0x8000, kDenormalsAreZero = 0x0040;

// Flushes subnormals while it lives, then restores the caller's mode (NumPy's
// own arithmetic on the same thread is left as it was).
class FlushDenormals {
 public:
  FlushDenormals() : saved_(float_mode()) { set_float_mode(saved_ | kFlushToZero | kDenormalsAreZero); }
  ~FlushDenormals() { set_float_mode(saved_); }
  FlushDenormals(const FlushDenormals&) = delete;
  FlushDenormals& operator=(const FlushDenormals&) = delete;

 private:
  unsigned saved_;
};

}  // namespace fastdnn

#else  // other CPUs: their default mode

namespace fastdnn {
inline unsigned float_mode() { return 0; }
inline void set_float_mode(unsigned) {}
struct FlushDenormals {};
}  // namespace fastdnn

#endif
