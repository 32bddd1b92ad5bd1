// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3",
// SC 2011): a counter-based generator. The random numbers of element i are a
// pure function of (seed, stream, i), so masks do not depend on how the work is
// split between threads, and a step can be replayed exactly.
#pragma once
#include <cstdint>

namespace fastdnn {

struct Philox4x32 {
  uint32_t v[4];
};

// Four independent 32-bit words for counter `block` of `stream` under `seed`.
inline Philox4x32 philox4x32(uint64_t seed, uint64_t stream, uint64_t block) {
  uint32_t c0 = uint32_t(block), c1 = uint32_t(block >> 32);
  uint32_t c2 = uint32_t(stream), c3 = uint32_t(stream >> 32);
  uint32_t k0 = uint32_t(seed), k1 = uint32_t(seed >> 32);
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = uint64_t(0xD2511F53u) * c0;
    const uint64_t p1 = uint64_t(0xCD9E8D57u) * c2;
    const uint32_t n0 = uint32_t(p1 >> 32) ^ c1 ^ k0;
    const uint32_t n2 = uint32_t(p0 >> 32) ^ c3 ^ k1;
    c1 = uint32_t(p1);
    c3 = uint32_t(p0);
    c0 = n0;
    c2 = n2;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return {{c0, c1, c2, c3}};
}

// Uniform in [0, 1) from the top 24 bits (every value exactly representable).
inline float uniform_from_bits(uint32_t bits) { return float(bits >> 8) * (1.0f / 16777216.0f); }

// body(i, u) for every element i in [begin, end), u ~ U[0,1) the draw of element
// offset + i: a shard whose first element is element `offset` of a larger batch draws
// what the whole batch draws there (element j: block j/4, lane j%4).
template <class Body>
inline void for_each_uniform(uint64_t seed, uint64_t stream, uint64_t offset, int64_t begin, int64_t end,
                             Body body) {
  for (int64_t i = begin; i < end;) {
    const uint64_t j = offset + uint64_t(i);  // wraps modulo 2^64 rather than overflow
    const Philox4x32 r = philox4x32(seed, stream, j / 4);
    for (unsigned lane = unsigned(j % 4); lane < 4 && i < end; ++lane, ++i) body(i, uniform_from_bits(r.v[lane]));
  }
}

}  // namespace fastdnn
