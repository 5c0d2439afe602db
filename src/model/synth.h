// Random-weight Hugging Face-layout models in the published shapes of real
// architectures, for benchmarks at real sizes (ax-engine-bench synth-model).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ax/status.h"
#include "tensor/dtype.h"

namespace ax {

struct SynthOptions {
  std::string shape;          // "llama-1b", "qwen3-0.6b", "qwen3-8b", ... (SynthShapeNames)
  DType dtype = DType::kBF16;
  uint64_t seed = 0;
  std::string out_dir;
  std::string tokenizer_dir;  // optional: tokenizer files copied from here
};

std::vector<std::string> SynthShapeNames();

// Writes config.json, generation_config.json, model.safetensors (sharded above
// 4 GB with an index) and the tokenizer files when given. Weights are deterministic
// in (seed, tensor name), scaled like a trained model's (std ~ 1/sqrt(fan_in),
// norms ≈ 1) so activations stay in range.
Status WriteSynthModel(const SynthOptions& opts);

}  // namespace ax
