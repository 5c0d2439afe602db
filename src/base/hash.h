// 64-bit hashing for content addressing (prefix-cache block hashes, file checks).
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/rng.h"

namespace ax {

// FNV-1a over bytes, finished with Mix64 for avalanche.
inline uint64_t HashBytes(const void* data, size_t n, uint64_t seed = 0) {
  const auto* p = static_cast<const unsigned char*>(data);
  uint64_t h = 0xcbf29ce484222325ULL ^ Mix64(seed);
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ULL;
  }
  return Mix64(h);
}

inline uint64_t HashCombine(uint64_t a, uint64_t b) { return Mix64(a ^ (b + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2))); }

}  // namespace ax
