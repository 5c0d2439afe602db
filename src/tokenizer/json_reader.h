// Reads tokenizer.json in one SAX pass. model.vocab and model.merges (the bulk
// of the file: 262k entries and 515k merges for Gemma 3) go straight into flat
// vectors; everything else becomes an ordinary nlohmann::json tree. Building
// them as a DOM (a std::map node per vocab entry) costs more than the parse.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ax/status.h"
#include "tokenizer/json_util.h"

namespace ax::tok {

struct BpeTables {
  bool has_vocab = false;   // model.vocab was an object
  bool has_merges = false;  // model.merges was an array
  std::vector<std::pair<std::string, int64_t>> vocab;
  // "a b" strings are split at their only space; a string without exactly one
  // space is kept whole in .first with .second = "\x01" (reported by the model).
  std::vector<std::pair<std::string, std::string>> merges;
};

struct TokenizerJson {
  Json root;  // without model.vocab and model.merges
  BpeTables bpe;
};

// Errors: InvalidArgument naming `src` (malformed JSON, or a vocab/merges entry
// of the wrong type, with its index).
Result<TokenizerJson> ReadTokenizerJson(const std::string& text, const std::string& src);

}  // namespace ax::tok
