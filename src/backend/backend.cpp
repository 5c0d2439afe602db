#include "backend/backend.h"

#include "backend/cpu/cpu_backend.h"
#include "backend/registry.h"

namespace ax {

const char* PrecisionName(Precision p) {
  switch (p) {
    case Precision::kBF16: return "bf16";
    case Precision::kF32: return "f32";
    default: return "auto";
  }
}

Result<Precision> ParsePrecision(const std::string& s, const std::string& field) {
  if (s == "auto") return Precision::kAuto;
  if (s == "bf16") return Precision::kBF16;
  if (s == "f32") return Precision::kF32;
  return InvalidArgument(field + " '" + s + "': expected one of auto, bf16, f32");
}

namespace {

Result<std::unique_ptr<Backend>> Cpu(const BackendOptions& opts) {
  if (opts.precision == Precision::kBF16)
    return InvalidArgument(
        "precision 'bf16': the cpu backend computes in f32 (auto: f32 with a bf16 KV cache; f32: all f32)");
  return CreateCpuBackend(opts);
}

}  // namespace

Result<std::unique_ptr<Backend>> CreateBackend(const std::string& name, const BackendOptions& opts) {
  if (name == "cpu") return Cpu(opts);
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
    return Cpu(opts);
  }
  return InvalidArgument("backend '" + name + "': expected one of auto, cpu, cuda");
}

}  // namespace ax
