// One architecture per file (arch/llama.cpp, arch/qwen3.cpp, …), each providing the
// hooks of its family: map and fuse the checkpoint's weights onto the backend, and
// run the forward built from shared layers. config.json is read by model/config.cpp.
#pragma once

#include "model/config.h"
#include "model/layers/decoder.h"
#include "model/weights.h"

namespace ax {

struct ArchHooks {
  ModelFamily family;
  Status (*map_weights)(const ModelConfig& cfg, WeightLoader& loader, DecoderWeights* out);
  Status (*forward)(Backend& be, const ModelConfig& cfg, const DecoderWeights& w, DecoderWorkspace& ws,
                    KvCache& kv, const ForwardBatch& batch, const ForwardOutput& out);
};

const ArchHooks& LlamaArch();
const ArchHooks& Qwen3Arch();
const ArchHooks& ArchFor(ModelFamily family);  // defined in model.cpp

// Shared by the Llama-like families: the HF tensor names of a pre-norm decoder,
// with q_norm/k_norm when `qk_norm`.
Status MapDecoderWeights(const ModelConfig& cfg, WeightLoader& loader, bool qk_norm, DecoderWeights* out);

}  // namespace ax
