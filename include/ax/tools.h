// Helpers behind ax-engine-bench's doctor, tokenize and synth-model commands.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ax/status.h"

namespace ax {

struct SystemReport {
  std::string cpu_model;
  bool avx2 = false, fma = false, f16c = false, avx512f = false, avx512_bf16 = false;
  // The CPU backend as it would run here: its kernel paths (chosen at run time from the
  // processor's features), KV cache dtype and layout, threads.
  std::string cpu_backend;
  int threads = 0;               // hardware threads this process may use
  bool cuda_backend_built = false;
  bool cuda_driver_present = false;  // libcuda.so.1 loadable
  int cuda_devices = 0;
  std::string cuda_detail;
};
SystemReport InspectSystem();

struct ModelReport {
  std::string architecture, family, dtype;
  std::string weights;  // "BF16", or "affine 4-bit g64" (an MLX-quantized checkpoint)
  int64_t parameters = 0;
  uint64_t weight_bytes = 0;
  int64_t num_tensors = 0;
  int64_t layers = 0, hidden_size = 0, vocab_size = 0, max_position_embeddings = 0;
  bool has_tokenizer = false;
  std::string tokenizer_error;  // why tokenizer.json failed to load, if it did
  std::vector<std::string> features;    // what the checkpoint uses ("sliding window 512 on 22 of 26 layers", …)
  std::vector<std::string> not_loaded;  // tensors no mapping reads, by group ("vision_tower.vision_model: 438 tensors")
};
// Validates config.json and every tensor header against the architecture's weight
// map without reading weight bytes; loads tokenizer.json if present.
Result<ModelReport> InspectModel(const std::string& dir);

// Tokenizes like the model would receive it (special tokens applied).
struct TokenizeResult {
  std::vector<int32_t> ids;
  std::vector<std::string> pieces;
};
Result<TokenizeResult> TokenizeWithDir(const std::string& dir, const std::string& text);

struct SynthModelOptions {
  std::string shape;   // llama-1b, qwen3-0.6b, qwen3-8b, ...
  std::string dtype = "bf16";
  uint64_t seed = 0;
  std::string out_dir;
  std::string tokenizer_dir;
};
Status SynthModel(const SynthModelOptions& opts);
std::vector<std::string> SynthModelShapes();

// An MLX affine-quantized copy of a checkpoint (the mlx-community layout; see
// src/model/quantize.h): `keep` is "REGEX=BITS|float[,...]" for modules that get other
// bits or stay unquantized (e.g. "lm_head=8,mlp.gate$=float").
struct QuantizeModelOptions {
  std::string in_dir, out_dir;
  int bits = 4;
  int group_size = 64;
  std::string keep;
  int threads = 0;
};
Status QuantizeModel(const QuantizeModelOptions& opts);

}  // namespace ax
