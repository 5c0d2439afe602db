// Mapping steps several architecture files share.
#pragma once

#include <string>

#include "model/config.h"
#include "model/weights.h"

namespace ax {

// Where a text model's tensors live: "model." for a *ForCausalLM checkpoint, or the
// language model of a multimodal one ("model.language_model." in transformers 5,
// "language_model.model." before), whichever holds embed_tokens.weight.
std::string TextPrefix(const ModelConfig& c, const WeightLoader& loader);

// The lm_head [vocab, hidden]: the embedding when tied (a stored copy is ignored),
// else lm_head.weight (or a multimodal checkpoint's language_model.lm_head.weight).
Result<TensorView> LoadLmHead(const ModelConfig& c, WeightLoader& loader, const TensorView& embed);

}  // namespace ax
