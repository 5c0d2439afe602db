// The CUDA backend: bf16 activations and KV cache, f32 norm weights and logits,
// bf16 matmul weights (f32/f16 checkpoints converted at upload); one device, one
// dedicated stream, memory from a DeviceArena reserved at load. See
// docs/cuda-backend.md for the design and docs/performance.md for measurements.
//
// Registration: register.cpp holds a static registrar object that calls
// RegisterCudaBackend(&CreateCudaBackend). ax_backend links ax_backend_cuda with
// CMake's WHOLE_ARCHIVE link feature, so the registrar's object file is kept by the
// linker even though nothing references it, and CreateBackend("auto"|"cuda") finds
// the factory without any #ifdef above the backend.
#pragma once

#include <memory>
#include <string>

#include "backend/backend.h"

namespace ax {

// Fails (with `why` set too) when no CUDA device is usable: no driver, no device,
// compute capability below 8.0.
Result<std::unique_ptr<Backend>> CreateCudaBackend(const BackendOptions& opts, std::string* why);

}  // namespace ax
