// The CPU backend: f32 activations, f32/f16/bf16 weights, AVX2+FMA+F16C kernels on a
// persistent thread pool (scalar reference kernels where the processor lacks AVX2).
#pragma once

#include <memory>

#include "backend/backend.h"

namespace ax {

std::unique_ptr<Backend> CreateCpuBackend(const BackendOptions& opts);

}  // namespace ax
