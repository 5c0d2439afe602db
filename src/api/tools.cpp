// doctor / tokenize / synth-model helpers (include/ax/tools.h).
#include "ax/tools.h"

#include <dlfcn.h>

#include <filesystem>
#include <fstream>

#include "backend/backend.h"
#include "backend/registry.h"
#include "base/thread_pool.h"
#include "model/model.h"
#include "model/quantize.h"
#include "model/synth.h"
#include "tokenizer/tokenizer.h"

namespace ax {
namespace {

std::string CpuModelName() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const size_t colon = line.find(':');
      if (colon != std::string::npos) return line.substr(colon + 2);
    }
  }
  return "unknown";
}

// Asks the driver (libcuda, if installed) how many GPUs it sees, without any CUDA
// header or link dependency.
void ProbeCudaDriver(SystemReport* r) {
  void* lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    r->cuda_detail = "no CUDA driver (libcuda.so.1 not found)";
    return;
  }
  r->cuda_driver_present = true;
  using InitFn = int (*)(unsigned);
  using CountFn = int (*)(int*);
  auto init = reinterpret_cast<InitFn>(dlsym(lib, "cuInit"));
  auto count = reinterpret_cast<CountFn>(dlsym(lib, "cuDeviceGetCount"));
  int n = 0;
  if (init == nullptr || count == nullptr) {
    r->cuda_detail = "libcuda.so.1 lacks cuInit/cuDeviceGetCount";
  } else if (int rc = init(0); rc != 0) {
    r->cuda_detail = "cuInit failed with code " + std::to_string(rc);
  } else if (count(&n) == 0) {
    r->cuda_devices = n;
    r->cuda_detail = std::to_string(n) + " device(s)";
  }
  dlclose(lib);
}

}  // namespace

SystemReport InspectSystem() {
  SystemReport r;
  r.cpu_model = CpuModelName();
  __builtin_cpu_init();
  r.avx2 = __builtin_cpu_supports("avx2");
  r.fma = __builtin_cpu_supports("fma");
  r.f16c = false;
#if defined(__x86_64__)
  {
    unsigned eax, ebx, ecx, edx;
    __asm__ volatile("cpuid" : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx) : "a"(1), "c"(0));
    r.f16c = (ecx >> 29) & 1u;
  }
#endif
  r.avx512f = __builtin_cpu_supports("avx512f");
  r.avx512_bf16 = __builtin_cpu_supports("avx512bf16");
  auto cpu = CreateBackend("cpu", BackendOptions{});
  r.cpu_backend = cpu.ok() ? (*cpu)->Describe() : cpu.status().ToString();
  r.threads = ThreadPool::HardwareThreads();
  r.cuda_backend_built = RegisteredCudaBackend() != nullptr;
  ProbeCudaDriver(&r);
  return r;
}

Result<ModelReport> InspectModel(const std::string& dir) {
  if (!std::filesystem::is_directory(dir)) return NotFound(dir + ": not a directory");
  AX_ASSIGN_OR_RETURN(ModelCheck check, Model::Check(dir));
  ModelReport r;
  r.architecture = check.config.architecture;
  r.family = ModelFamilyName(check.config.family);
  r.dtype = check.dtype;
  r.weights = check.weights;
  r.weight_bytes = check.weight_bytes;
  r.num_tensors = static_cast<int64_t>(check.num_tensors);
  r.parameters = check.parameters;
  r.layers = check.config.num_hidden_layers;
  r.hidden_size = check.config.hidden_size;
  r.vocab_size = check.config.vocab_size;
  r.max_position_embeddings = check.config.max_position_embeddings;
  r.features = check.features;
  r.not_loaded = check.skipped;
  if (std::filesystem::exists(std::filesystem::path(dir) / "tokenizer.json")) {
    auto tok = Tokenizer::LoadFromDir(dir);
    r.has_tokenizer = tok.ok();
    if (!tok.ok()) r.tokenizer_error = tok.status().message();
  } else {
    r.tokenizer_error = "no tokenizer.json (the model takes token ids only)";
  }
  return r;
}

Result<TokenizeResult> TokenizeWithDir(const std::string& dir, const std::string& text) {
  AX_ASSIGN_OR_RETURN(std::unique_ptr<Tokenizer> tok, Tokenizer::LoadFromDir(dir));
  TokenizeResult r;
  r.ids = tok->Encode(text, /*add_special_tokens=*/true);
  for (int32_t id : r.ids) r.pieces.push_back(tok->IdToPiece(id));
  return r;
}

Status SynthModel(const SynthModelOptions& opts) {
  SynthOptions s;
  s.shape = opts.shape;
  s.seed = opts.seed;
  s.out_dir = opts.out_dir;
  s.tokenizer_dir = opts.tokenizer_dir;
  if (opts.dtype == "bf16") s.dtype = DType::kBF16;
  else if (opts.dtype == "f16") s.dtype = DType::kF16;
  else if (opts.dtype == "f32") s.dtype = DType::kF32;
  else return InvalidArgument("--dtype '" + opts.dtype + "': expected bf16, f16 or f32");
  return WriteSynthModel(s);
}

std::vector<std::string> SynthModelShapes() { return SynthShapeNames(); }

Status QuantizeModel(const QuantizeModelOptions& opts) {
  QuantizeOptions q;
  q.in_dir = opts.in_dir;
  q.out_dir = opts.out_dir;
  q.bits = opts.bits;
  q.group_size = opts.group_size;
  q.threads = opts.threads;
  AX_ASSIGN_OR_RETURN(q.rules, ParseQuantizeRules(opts.keep));
  return QuantizeCheckpoint(q);
}

}  // namespace ax
