// Hugging Face tokenizer.json: BPE models in byte-level (GPT-2 / Qwen) and
// SentencePiece (Llama 2 / Gemma) styles, with normalizers, pre-tokenizers,
// post-processor (BOS/EOS templates) and decoders as tokenizer.json declares them.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ax/status.h"

namespace ax {

namespace tok {
class HfTokenizer;
}  // namespace tok

// Thread-safety: a loaded Tokenizer is immutable; every method may be called
// from many threads at once.
class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // Loads dir/tokenizer.json (+ dir/tokenizer_config.json when present, for
  // add_bos_token / bos / eos). Errors name the file and the field.
  static Result<std::unique_ptr<Tokenizer>> LoadFromDir(const std::string& dir);
  static Result<std::unique_ptr<Tokenizer>> LoadFromJson(const std::string& tokenizer_json,
                                                         const std::string& source_name);

  // Added/special tokens are matched first; add_special_tokens applies the
  // post-processor (e.g. BOS) exactly as HF's encode(text, add_special_tokens=...).
  virtual std::vector<int32_t> Encode(std::string_view text, bool add_special_tokens) const = 0;
  virtual std::string Decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const = 0;

  virtual int32_t vocab_size() const = 0;
  virtual std::string IdToPiece(int32_t id) const = 0;  // the vocab string ("▁the", "Ġthe")
  virtual std::optional<int32_t> PieceToId(std::string_view piece) const = 0;
  virtual bool IsSpecial(int32_t id) const = 0;
  // The raw bytes the token contributes to decoded text in the middle of a text
  // (byte-level BPE chars mapped back to bytes, <0xNN> byte-fallback tokens as
  // their byte, SentencePiece's U+2581 as a space, no start-of-text stripping).
  // Unlike Decode, bytes that are not valid UTF-8 on their own are kept as they
  // are. Empty for special tokens and ids without a token.
  virtual std::string TokenBytes(int32_t id) const = 0;
  virtual std::optional<int32_t> bos_id() const = 0;
  virtual std::optional<int32_t> eos_id() const = 0;
};

// Streaming detokenization: feed ids one at a time, get text deltas that never end
// in the middle of a UTF-8 sequence and that concatenate to Decode(all ids).
//
// Window technique: ids_[prefix_offset_, read_offset_) decode to text already
// emitted; Push decodes ids_[prefix_offset_..] and emits what follows that text
// once the result no longer ends in U+FFFD (an incomplete sequence). Windows
// are decoded as the middle of a text (no start-of-text stripping), and nothing
// is emitted while the last id is a byte-fallback token, because HF decodes a
// run of <0xNN> tokens as a whole (all U+FFFD if any byte is bad).
// Not thread-safe; one decoder per stream.
class IncrementalDecoder {
 public:
  IncrementalDecoder(const Tokenizer& tok, bool skip_special_tokens);
  std::string Push(int32_t id);
  std::string Flush();  // whatever is held back at the end (invalid bytes as U+FFFD)

 private:
  std::string DecodeRange(size_t begin, size_t end) const;
  void AdvanceWindow();  // after emitting: the window starts at read_offset_

  const Tokenizer& tok_;
  const tok::HfTokenizer* hf_ = nullptr;  // tok_ as the built-in implementation, if it is
  bool skip_special_;
  std::vector<int32_t> ids_;
  size_t prefix_offset_ = 0;  // ids_[prefix_offset_..] are decoded as a window
  size_t read_offset_ = 0;
  bool window_at_start_ = true;    // no id before prefix_offset_ yields a token
  bool text_before_empty_ = true;  // ids before prefix_offset_ decode to ""
  bool emitted_any_ = false;
};

}  // namespace ax
