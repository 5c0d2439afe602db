// One architecture per file (arch/llama.cpp, arch/qwen3.cpp, arch/gemma3.cpp, …). Each
// owns its config extras (ParseExtras), its weights struct and their mapping from the
// checkpoint (fusions included), and a forward that leaves hidden rows; shared blocks
// come from model/layers. The registry (arch/registry.cpp) names each architecture
// once: config.json parsing, weight mapping, synth shapes and doctor read it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "model/config.h"
#include "model/config_fields.h"
#include "model/forward_batch.h"
#include "model/layers/head.h"
#include "model/layers/workspace.h"
#include "model/memory.h"
#include "model/weights.h"

namespace ax {

// A checkpoint's weights mapped onto a backend, and what the rest of the model needs
// to know about them.
class ArchModel {
 public:
  virtual ~ArchModel() = default;

  // Runs the decoder layers over the staged batch (Backend::BeginForward ran): embeds
  // batch.tokens into ws.x and leaves the final hidden rows there (before the final
  // norm, which HeadWeights applies). Issues backend ops only (it may be recorded).
  virtual void Layers(Backend& be, Workspace& ws, KvCache& kv, const ForwardBatch& batch) const = 0;

  HeadWeights head;
  std::vector<LayerMemory> memory;           // [num_hidden_layers]
  std::vector<AttentionShape> attention;     // [num_hidden_layers]
  std::vector<MoeShape> moe;                 // the MoE blocks' shapes (Backend::CheckMoe), if any
  std::vector<GatedDeltaShape> gated_delta;  // the GatedDelta layers' shapes (Backend::CheckGatedDelta), if any
  std::vector<MlaShape> mla;                 // the MLA layers' shapes (Backend::CheckMla), if any
  bool noaux_router = false;                 // AddBias and the noaux_tc router are used (Backend::CheckMla)
  WorkspaceSizes sizes;
};

// The hooks of one architecture.
struct ArchInfo {
  ModelFamily family;
  const char* model_type;                     // config.json's model_type, e.g. "gemma3_text"
  std::vector<std::string> class_names;       // architectures[0] values, e.g. "Gemma3ForCausalLM"
  // Class names whose checkpoints hold this text model inside a multimodal one
  // (config.json's text_config; weights under a language_model prefix).
  std::vector<std::string> multimodal_class_names;
  // The family's defaults of the common fields (transformers' config class), set
  // before config.json is read.
  void (*defaults)(ModelConfig* c);
  // Config.json fields beyond the common ones (read after them); errors name the field.
  Status (*parse_extras)(const ConfigFields& f, ModelConfig* c);
  // Maps the checkpoint (the loader's backend may be null: shape checks only).
  Result<std::unique_ptr<ArchModel>> (*load)(const ModelConfig& c, WeightLoader& loader);
  // The features of `c` a reader of doctor's report cares about ("sliding window 512 on
  // 5 of 6 layers", …).
  std::vector<std::string> (*features)(const ModelConfig& c);
};

// Every architecture, in one table.
const std::vector<const ArchInfo*>& Architectures();
const ArchInfo& ArchFor(ModelFamily family);

const ArchInfo& LlamaArch();
const ArchInfo& Qwen3Arch();
const ArchInfo& Gemma3Arch();
const ArchInfo& Gemma4Arch();
const ArchInfo& Qwen3MoeArch();
const ArchInfo& Qwen3NextArch();
const ArchInfo& Qwen35Arch();
const ArchInfo& Qwen35MoeArch();
const ArchInfo& Glm4MoeArch();
const ArchInfo& Glm4MoeLiteArch();

}  // namespace ax
