// The CUDA backend registers its factory here from its own library (src/backend/cuda),
// so this file and everything above it compile without CUDA headers.
#pragma once

#include <memory>
#include <string>

#include "backend/backend.h"

namespace ax {

using CudaBackendFactory = Result<std::unique_ptr<Backend>> (*)(const BackendOptions&, std::string* why);

void RegisterCudaBackend(CudaBackendFactory factory);
CudaBackendFactory RegisteredCudaBackend();  // nullptr when none was linked

}  // namespace ax
