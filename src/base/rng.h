// Counter-based random numbers: a draw is a pure function of (seed, token index,
// draw index), so a request's samples never depend on its neighbours, on batching,
// or on how many draws another request made (design.md: determinism by construction).
#pragma once

#include <cstdint>

namespace ax {

// SplitMix64 finalizer: a bijective 64-bit mixer with full avalanche.
inline uint64_t Mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// 64 random bits for draw `draw` of token `index` of a request seeded with `seed`.
inline uint64_t CounterRandom(uint64_t seed, uint64_t index, uint64_t draw = 0) {
  return Mix64(Mix64(Mix64(seed) ^ index) ^ (draw * 0xd1b54a32d192ed03ULL));
}

// Uniform double in [0, 1) with 53 random bits.
inline double CounterUniform(uint64_t seed, uint64_t index, uint64_t draw = 0) {
  return static_cast<double>(CounterRandom(seed, index, draw) >> 11) * 0x1.0p-53;
}

}  // namespace ax
