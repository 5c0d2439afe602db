// The pre-norm decoder of the Llama-like families (Llama, Qwen3, and later
// Mistral-like ones):
//   embed → N × [x += o(attn(rmsnorm(x))); x += down(silu(gate)·up)(rmsnorm(x))]
// with per-head q/k RMSNorm for Qwen3. Its weights, mapping and forward; llama.cpp and
// qwen3.cpp register it with their own names and defaults.
#pragma once

#include "model/arch/arch.h"

namespace ax {

Result<std::unique_ptr<ArchModel>> LoadLlamaDecoder(const ModelConfig& c, WeightLoader& loader, bool qk_norm);

// The features every family of this decoder shares (GQA, rope scaling, tied head).
std::vector<std::string> LlamaDecoderFeatures(const ModelConfig& c);

}  // namespace ax
