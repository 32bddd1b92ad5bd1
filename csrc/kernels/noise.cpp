#include "kernels/noise.h"

#include <cmath>

#include "kernels/parallel.h"
#include "kernels/philox.h"

namespace fastdnn {

namespace {

// body(i, z) for every element i in [begin, end), z ~ N(0,1) the draw of element
// offset + i. Block b's words (v0, v1) give elements 4b, 4b+1 and (v2, v3) give 4b+2, 4b+3:
// r = √(−2·ln u₁), z = r·cos(2πu₂), r·sin(2πu₂), with u₁ = (v + ½)/2³² ∈ (0, 1), so the
// tails reach |z| ≈ 6.8 (24-bit uniforms would stop at 5.8).
template <class Body>
void for_each_normal(uint64_t seed, uint64_t stream, uint64_t offset, int64_t begin, int64_t end, Body body) {
  constexpr double kTwoPi = 6.283185307179586476925286766559;
  constexpr double kInv2To32 = 1.0 / 4294967296.0;
  for (int64_t i = begin; i < end;) {
    const uint64_t j = offset + uint64_t(i);  // wraps modulo 2^64 rather than overflow
    const Philox4x32 bits = philox4x32(seed, stream, j / 4);
    for (unsigned lane = unsigned(j % 4); lane < 4 && i < end;) {
      const unsigned pair = lane / 2;
      const double u1 = (double(bits.v[2 * pair]) + 0.5) * kInv2To32;
      const double u2 = double(bits.v[2 * pair + 1]) * kInv2To32;
      const double r = std::sqrt(-2.0 * std::log(u1));
      const double z[2] = {r * std::cos(kTwoPi * u2), r * std::sin(kTwoPi * u2)};
      for (; lane < 2 * pair + 2 && i < end; ++lane, ++i) body(i, float(z[lane % 2]));
    }
  }
}

}  // namespace

void standard_normal(float* z, int64_t n, uint64_t seed, uint64_t stream) {
  parallel_elementwise(n, [&](int64_t begin, int64_t end) {
    for_each_normal(seed, stream, 0, begin, end, [&](int64_t i, float v) { z[i] = v; });
  });
}

void gaussian_noise_forward(float* y, const float* x, int64_t n, double stddev, uint64_t seed,
                            uint64_t stream, uint64_t offset) {
  const float sigma = float(stddev);
  parallel_elementwise(n, [&](int64_t begin, int64_t end) {
    for_each_normal(seed, stream, offset, begin, end, [&](int64_t i, float z) { y[i] = x[i] + sigma * z; });
  });
}

void gaussian_dropout_forward(float* y, float* mask, const float* x, int64_t n, double rate,
                              uint64_t seed, uint64_t stream, uint64_t offset) {
  const float sigma = float(std::sqrt(rate / (1.0 - rate)));
  parallel_elementwise(n, [&](int64_t begin, int64_t end) {
    for_each_normal(seed, stream, offset, begin, end, [&](int64_t i, float z) {
      mask[i] = 1.0f + sigma * z;
      y[i] = x[i] * mask[i];
    });
  });
}

}  // namespace fastdnn
