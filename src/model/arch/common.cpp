#include "model/arch/common.h"

namespace ax {

std::string TextPrefix(const ModelConfig& c, const WeightLoader& ld) {
  if (!c.multimodal) return "model.";
  for (const char* p : {"model.language_model.", "language_model.model."})
    if (ld.Has(std::string(p) + "embed_tokens.weight")) return p;
  return "model.language_model.";
}

Result<TensorView> LoadLmHead(const ModelConfig& c, WeightLoader& ld, const TensorView& embed) {
  if (c.tie_word_embeddings) return embed;
  for (const char* name : {"lm_head.weight", "language_model.lm_head.weight"})
    if (ld.Has(name)) return ld.Matrix(name, c.vocab_size, c.hidden_size);
  return NotFound("lm_head.weight: missing, and config.json has tie_word_embeddings false");
}

}  // namespace ax
