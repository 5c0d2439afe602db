#include "backend/backend.h"

#include "backend/cpu/cpu_backend.h"
#include "backend/registry.h"

namespace ax {

Result<std::unique_ptr<Backend>> CreateBackend(const std::string& name, const BackendOptions& opts) {
  if (name == "cpu") return CreateCpuBackend(opts);
  if (name == "cuda" || name == "auto") {
    std::string why;
    if (CudaBackendFactory factory = RegisteredCudaBackend()) {
      auto cuda = factory(opts, &why);
      if (cuda.ok()) return cuda;
      why = cuda.status().message();
    } else {
      why = "this build has no CUDA backend (configure with AX_CUDA=ON on a machine with nvcc)";
    }
    if (name == "cuda") return FailedPrecondition("backend 'cuda' is not available: " + why);
    return CreateCpuBackend(opts);
  }
  return InvalidArgument("backend '" + name + "': expected one of auto, cpu, cuda");
}

}  // namespace ax
