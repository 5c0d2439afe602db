// The quantization section of config.json: MLX affine checkpoints as mlx-community
// publishes them ("quantization", mirrored as "quantization_config" by mlx_lm):
//
//   "quantization": {"group_size": 64, "bits": 4, "mode": "affine",
//                    "model.layers.0.mlp.down_proj": {"group_size": 64, "bits": 8},
//                    "lm_head": false}
//
// The top-level bits / group size apply to every quantized module; a key naming a
// module (its path without ".weight") overrides them, or false keeps it unquantized.
// Which modules are quantized is the checkpoint's to say: a module is quantized when
// "<module>.scales" is stored (as mlx_lm's loader decides).
#pragma once

#include <map>
#include <string>

#include "ax/status.h"

namespace ax {

// The module a tensor belongs to, as config.json's overrides and the ".scales" /
// ".biases" tensors name it: "<module>.weight" -> "<module>"; a stacked expert tensor
// without the suffix ("...experts.gate_up_proj") is its own module.
std::string QuantModuleOf(const std::string& tensor_name);

struct ModuleQuant {
  bool quantized = true;
  int bits = 0;
  int group_size = 0;
};

struct QuantizationConfig {
  int bits = 0;  // 0: not a quantized checkpoint
  int group_size = 0;
  std::map<std::string, ModuleQuant> modules;  // per-module overrides

  bool quantized() const { return bits > 0; }
  // The format of `module` ("model.layers.3.mlp.down_proj"): its override, else the default.
  ModuleQuant For(const std::string& module) const;
  // "affine 4-bit g64" (plus " mixed" when some module differs), "" when unquantized.
  std::string Describe() const;
};

// Parses config.json's root object (nlohmann::json, passed opaquely as `root` to keep
// the JSON library out of this header) into *out; errors name `path` and the field.
// Other quantization methods (gptq, awq, bitsandbytes, mxfp4, ...) are Unimplemented.
Status ParseQuantizationConfig(const void* root, const std::string& path, QuantizationConfig* out);

}  // namespace ax
