// Decoders of tokenizer.json ("decoder"): they turn the token strings of a
// decode into text. Each step maps a list of strings to a list of strings
// (HF's decode_chain); the final text is their concatenation.
//
// DecodeState lets a decode run over a window of ids in the middle of a text
// (IncrementalDecoder): the only position-dependent steps are Metaspace (drops
// the replacement chars of the text's first token) and Strip's `start` once the
// tokens have been fused into one string (only the text's first characters).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "ax/status.h"

namespace ax::tok {

struct DecodeState {
  bool first_is_global = true;    // tokens[0] is the first token of the whole text
  bool text_before_empty = true;  // no text precedes tokens[0]
  bool collapsed = false;         // tokens were fused into a single string
};

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual void DecodeChain(std::vector<std::string>* tokens, DecodeState* st) const = 0;
};

Result<std::unique_ptr<Decoder>> ParseDecoder(const nlohmann::json& j, const std::string& where);

// The <0xNN> spelling of a byte-fallback token, or -1 if `token` is not one.
int ByteFallbackValue(const std::string& token);

}  // namespace ax::tok
