// Encode/Decode of HfTokenizer (loading is in loader.cpp).
#include "tokenizer/hf_tokenizer.h"

#include "tokenizer/pre_tokenizers.h"
#include "tokenizer/utf8.h"

namespace ax::tok {
namespace {

struct EncodeScratch {
  std::vector<Segment> segments;
  PieceList pieces;
  PieceList spare;
};

EncodeScratch& Scratch() {
  thread_local EncodeScratch s;
  return s;
}

}  // namespace

std::vector<int32_t> HfTokenizer::Encode(std::string_view text, bool add_special_tokens) const {
  // HF takes Rust strings, which are valid UTF-8; invalid input is read lossily.
  std::string repaired;
  if (!IsValidUtf8(text)) {
    repaired = Utf8Lossy(text);
    text = repaired;
  }
  EncodeScratch& s = Scratch();
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 4);
  added_.ExtractAndNormalize(text, &s.segments);
  for (Segment& seg : s.segments) {
    if (seg.id >= 0) {
      ids.push_back(seg.id);
      continue;
    }
    PieceList& pl = s.pieces;
    pl.text.swap(seg.text);
    pl.pieces.assign(1, Piece{0, static_cast<uint32_t>(pl.text.size()), seg.at_origin});
    if (pre_tokenizer_ != nullptr) pre_tokenizer_->Apply(&pl, &s.spare);
    for (const Piece& p : pl.pieces) {
      model_->Tokenize(std::string_view(pl.text.data() + p.begin, p.end - p.begin), &ids);
    }
  }
  if (add_special_tokens && post_processor_ != nullptr) post_processor_->Process(&ids);
  return ids;
}

const std::string* HfTokenizer::TokenString(int32_t id) const {
  if (id >= 0 && static_cast<size_t>(id) < added_index_.size() && added_index_[id] >= 0) {
    return &added_.tokens()[added_index_[id]].decoded;
  }
  return model_->IdToToken(id);
}

bool HfTokenizer::Contributes(int32_t id, bool skip_special_tokens) const {
  if (TokenString(id) == nullptr) return false;
  return !(skip_special_tokens && IsSpecial(id));
}

bool HfTokenizer::IsPendingByte(int32_t id) const {
  if (!has_byte_fallback_decoder_) return false;
  const std::string* t = TokenString(id);
  return t != nullptr && ByteFallbackValue(*t) >= 0;
}

std::string HfTokenizer::DecodeWindow(const int32_t* ids, size_t n, bool skip_special_tokens,
                                      DecodeState st) const {
  std::vector<std::string> tokens;
  tokens.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (!Contributes(ids[i], skip_special_tokens)) continue;
    tokens.push_back(*TokenString(ids[i]));
  }
  std::string out;
  if (decoder_ == nullptr) {
    // HF joins with spaces when there is no decoder.
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (i > 0 || !st.first_is_global) out += ' ';
      out += tokens[i];
    }
    return out;
  }
  decoder_->DecodeChain(&tokens, &st);
  for (const std::string& t : tokens) out += t;
  return out;
}

std::string HfTokenizer::Decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const {
  return DecodeWindow(ids.data(), ids.size(), skip_special_tokens, DecodeState{});
}

std::string HfTokenizer::IdToPiece(int32_t id) const {
  const std::string* t = TokenString(id);
  return t == nullptr ? std::string() : *t;
}

std::optional<int32_t> HfTokenizer::PieceToId(std::string_view piece) const {
  auto it = added_by_content_.find(std::string(piece));
  if (it != added_by_content_.end()) return it->second;
  int32_t id = model_->TokenToId(piece);
  if (id < 0) return std::nullopt;
  return id;
}

std::string HfTokenizer::TokenBytes(int32_t id) const {
  const std::string* t = TokenString(id);
  if (t == nullptr || IsSpecial(id)) return {};
  if (has_byte_fallback_decoder_) {
    int b = ByteFallbackValue(*t);
    if (b >= 0) return std::string(1, static_cast<char>(b));
  }
  if (has_byte_level_decoder_) {
    // As ByteLevelDecoder, without the lossy UTF-8 read at the end.
    std::string bytes;
    size_t i = 0;
    while (i < t->size()) {
      int b = UnicodeToByte(NextCodePoint(*t, i));
      if (b < 0) return *t;
      bytes.push_back(static_cast<char>(b));
    }
    return bytes;
  }
  DecodeState mid{.first_is_global = false, .text_before_empty = false, .collapsed = false};
  return DecodeWindow(&id, 1, /*skip_special_tokens=*/false, mid);
}

bool HfTokenizer::IsSpecial(int32_t id) const {
  return id >= 0 && static_cast<size_t>(id) < special_.size() && special_[id];
}

}  // namespace ax::tok
