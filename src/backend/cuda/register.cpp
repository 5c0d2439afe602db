// Registers the CUDA backend's factory when this object file is linked (ax_backend
// links ax_backend_cuda as a whole archive; see cuda_backend.h).
#include "backend/cuda/cuda_backend.h"
#include "backend/registry.h"

namespace ax {
namespace {

struct CudaRegistrar {
  CudaRegistrar() { RegisterCudaBackend(&CreateCudaBackend); }
};
const CudaRegistrar registrar;

}  // namespace
}  // namespace ax
