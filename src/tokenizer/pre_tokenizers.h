// Pre-tokenizers of tokenizer.json ("pre_tokenizer"): they cut a normalized
// segment into pieces (and may rewrite them: ByteLevel, Metaspace); the model
// then tokenizes each piece on its own.
//
// A PieceList keeps all pieces of a segment in one buffer so that splitting
// does not allocate per piece:
//
//   text:   "Hello world"        pieces: [0,5) [5,11)
//
// Splitting stages only rewrite `pieces`; rewriting stages build a new text.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "ax/status.h"

namespace ax::tok {

struct Piece {
  uint32_t begin = 0;
  uint32_t end = 0;
  // The piece starts at offset 0 of the original input (HF's
  // offsets_original().0 == 0), which Metaspace's prepend_scheme "first" needs.
  bool at_origin = false;
};

struct PieceList {
  std::string text;
  std::vector<Piece> pieces;
};

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Replaces `pl` by its pre-tokenized form; `scratch` is reusable storage.
  // Empty pieces are dropped, as HF drops empty splits.
  virtual void Apply(PieceList* pl, PieceList* scratch) const = 0;
};

Result<std::unique_ptr<PreTokenizer>> ParsePreTokenizer(const nlohmann::json& j, const std::string& where);

// Maps between bytes and the printable characters GPT-2's byte-level BPE uses.
const std::string& ByteToUnicodeUtf8(uint8_t b);  // UTF-8 of the char for byte b
int UnicodeToByte(char32_t c);                     // -1 when c is not in the map

}  // namespace ax::tok
