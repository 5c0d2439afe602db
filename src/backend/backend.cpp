#include "backend/backend.h"

#include "backend/cpu/cpu_backend.h"
#include "backend/registry.h"
#include "base/check.h"

namespace ax {

const char* BackendKindName(BackendKind k) {
  switch (k) {
    case BackendKind::kCpu: return "cpu";
    case BackendKind::kCuda: return "cuda";
  }
  return "?";
}

Shape ConcatRowsShape(const std::vector<TensorView>& parts) {
  AX_CHECK(!parts.empty());
  Shape shape = parts[0].shape;
  int64_t rows = 0;
  for (const TensorView& p : parts) {
    AX_CHECK(p.shape.ndim == shape.ndim);
    for (int d = 1; d < shape.ndim; ++d) AX_CHECK(p.shape[d] == shape[d]);
    rows += p.shape.ndim > 0 ? p.shape[0] : 1;
  }
  if (shape.ndim > 0) shape.dims[0] = rows;
  return shape;
}

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
