// On/off switches read from the environment, for A/B runs of one build (AX_CUDA_GRAPHS=0,
// AX_SAMPLE_ON_HOST=1, ...). Callers cache the answer in a function-local static.
#pragma once

#include <cstdlib>
#include <cstring>

namespace ax {

// `fallback` when the variable is unset; off when it is "0"; on for any other value.
inline bool EnvSwitch(const char* name, bool fallback) {
  const char* e = std::getenv(name);
  if (e == nullptr) return fallback;
  return std::strcmp(e, "0") != 0;
}

}  // namespace ax
