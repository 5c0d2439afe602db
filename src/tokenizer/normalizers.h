// Normalizers of tokenizer.json ("normalizer"): they rewrite one segment of
// input text (the text between two added tokens) before pre-tokenization, as
// Hugging Face's NormalizedString operations do, minus the offset tracking we
// do not need.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "ax/status.h"

namespace ax::tok {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  // REQUIRES: *s is valid UTF-8. Leaves valid UTF-8.
  virtual void Normalize(std::string* s) const = 0;
};

class Regex;

// Reads a component's {"pattern": {"String": s}} or {"pattern": {"Regex": r}}:
// sets *literal for String, *re (Oniguruma syntax, compiled) for Regex.
Status ParsePattern(const nlohmann::json& j, const std::string& where, std::string* literal,
                    std::unique_ptr<Regex>* re);

// Builds the normalizer for a tokenizer.json "normalizer" value (non-null).
// `where` is the JSON path for error messages ("tokenizer.json: normalizer").
Result<std::unique_ptr<Normalizer>> ParseNormalizer(const nlohmann::json& j, const std::string& where);

}  // namespace ax::tok
