// HfTokenizer: the Tokenizer built from a Hugging Face tokenizer.json. Internal
// to src/tokenizer (callers use ax::Tokenizer); IncrementalDecoder reaches the
// window-decoding entry point through it.
//
// Encode pipeline (HF's encode_single_sequence):
//   text -> added tokens split out of the raw text -> each gap normalized ->
//   normalized added tokens split out -> pre-tokenizer pieces -> BPE ids ->
//   post-processor (only with add_special_tokens)
// Decode: ids -> token strings (specials dropped when asked) -> decoder chain.
//
// Thread-safety: immutable after loading; Encode/Decode may run concurrently.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "tokenizer/added_vocab.h"
#include "tokenizer/bpe.h"
#include "tokenizer/decoders.h"
#include "tokenizer/normalizers.h"
#include "tokenizer/post_processors.h"
#include "tokenizer/pre_tokenizers.h"
#include "tokenizer/tokenizer.h"

namespace ax::tok {

// Values read from tokenizer_config.json (all optional).
struct TokenizerConfig {
  std::optional<std::string> bos_token, eos_token;
  std::optional<bool> add_bos_token, add_eos_token;
};

class HfTokenizer final : public Tokenizer {
 public:
  static Result<std::unique_ptr<HfTokenizer>> FromJson(const std::string& json_text,
                                                       const std::string& source_name,
                                                       const TokenizerConfig* config);

  std::vector<int32_t> Encode(std::string_view text, bool add_special_tokens) const override;
  std::string Decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const override;
  int32_t vocab_size() const override { return vocab_size_; }
  std::string IdToPiece(int32_t id) const override;
  std::optional<int32_t> PieceToId(std::string_view piece) const override;
  bool IsSpecial(int32_t id) const override;
  std::string TokenBytes(int32_t id) const override;
  std::optional<int32_t> bos_id() const override { return bos_id_; }
  std::optional<int32_t> eos_id() const override { return eos_id_; }

  // Decodes ids[0:n] as a window of a longer text (see DecodeState).
  std::string DecodeWindow(const int32_t* ids, size_t n, bool skip_special_tokens, DecodeState st) const;
  // Whether the id yields a token string in a decode (it exists and is not skipped).
  bool Contributes(int32_t id, bool skip_special_tokens) const;
  // A byte-fallback token whose byte run may still turn out invalid: the
  // incremental decoder must not emit text while one ends the ids.
  bool IsPendingByte(int32_t id) const;

 private:
  HfTokenizer() = default;
  Status ApplyConfig(const TokenizerConfig& config, const std::string& source_name);
  const std::string* TokenString(int32_t id) const;

  std::unique_ptr<Normalizer> normalizer_;
  std::unique_ptr<PreTokenizer> pre_tokenizer_;
  std::unique_ptr<BpeModel> model_;
  std::unique_ptr<PostProcessor> post_processor_;
  std::string post_processor_type_;  // "" when null
  std::unique_ptr<Decoder> decoder_;
  bool has_byte_fallback_decoder_ = false;
  bool has_byte_level_decoder_ = false;
  AddedVocabulary added_;
  std::vector<int32_t> added_index_;  // id -> index in added_.tokens(), -1 if none
  std::vector<bool> special_;         // id -> special
  std::unordered_map<std::string, int32_t> added_by_content_;
  int32_t vocab_size_ = 0;
  std::optional<int32_t> bos_id_, eos_id_;
};

}  // namespace ax::tok
