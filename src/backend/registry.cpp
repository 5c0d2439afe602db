#include "backend/registry.h"

namespace ax {
namespace {
CudaBackendFactory& Slot() {
  static CudaBackendFactory factory = nullptr;
  return factory;
}
}  // namespace

void RegisterCudaBackend(CudaBackendFactory factory) { Slot() = factory; }
CudaBackendFactory RegisteredCudaBackend() { return Slot(); }

}  // namespace ax
