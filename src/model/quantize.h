// Writes an MLX affine-quantized copy of a Hugging Face checkpoint directory, in the
// layout mlx-community publishes (model/quant_config.h, tensor/quant.h): every
// quantizable matrix becomes "<module>.weight" (U32 packed codes), "<module>.scales"
// and "<module>.biases" in the source dtype; config.json gains "quantization" and
// "quantization_config"; every other file (tokenizer, templates, generation config) is
// copied as it is.
//
// Quantizable: float tensors of 2 (or 3: stacked experts) dimensions named
// "*.weight" (or "*.experts.*"), whose last dimension is a multiple of the group size,
// embeddings and lm_head included, norms (1-D) never — what mlx_lm.convert -q
// quantizes for the families we load.
#pragma once

#include <string>
#include <vector>

#include "ax/status.h"

namespace ax {

// A per-module exception: modules whose name matches `pattern` (ECMAScript regex,
// searched in "model.layers.0.mlp.down_proj") get `bits` (0: kept unquantized).
struct QuantizeRule {
  std::string pattern;
  int bits = 0;
};

struct QuantizeOptions {
  std::string in_dir, out_dir;
  int bits = 4;
  int group_size = 64;
  std::vector<QuantizeRule> rules;  // first match wins
  int threads = 0;                  // 0: all the process may use
};

// Errors name the file, tensor or option: an already quantized input, an unsupported
// bits / group size, an output directory equal to the input.
Status QuantizeCheckpoint(const QuantizeOptions& opts);

// Parses "REGEX=BITS|float[,REGEX=BITS|float...]" (the --keep option).
Result<std::vector<QuantizeRule>> ParseQuantizeRules(const std::string& spec);

}  // namespace ax
