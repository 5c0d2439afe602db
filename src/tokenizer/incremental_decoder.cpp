#include "tokenizer/hf_tokenizer.h"
#include "tokenizer/utf8.h"

namespace ax {

IncrementalDecoder::IncrementalDecoder(const Tokenizer& tok, bool skip_special_tokens)
    : tok_(tok),
      hf_(dynamic_cast<const tok::HfTokenizer*>(&tok)),
      skip_special_(skip_special_tokens) {}

std::string IncrementalDecoder::DecodeRange(size_t begin, size_t end) const {
  if (hf_ == nullptr) {
    // Another Tokenizer implementation: plain decoding of the window.
    return tok_.Decode(std::vector<int32_t>(ids_.begin() + static_cast<ptrdiff_t>(begin),
                                            ids_.begin() + static_cast<ptrdiff_t>(end)),
                       skip_special_);
  }
  tok::DecodeState st;
  st.first_is_global = window_at_start_;
  st.text_before_empty = text_before_empty_;
  return hf_->DecodeWindow(ids_.data() + begin, end - begin, skip_special_, st);
}

void IncrementalDecoder::AdvanceWindow() {
  // The text of ids_[0:read_offset_] is everything emitted before this delta.
  for (size_t i = prefix_offset_; i < read_offset_ && window_at_start_; ++i) {
    if (hf_ == nullptr || hf_->Contributes(ids_[i], skip_special_)) window_at_start_ = false;
  }
  text_before_empty_ = !emitted_any_;
  prefix_offset_ = read_offset_;
  read_offset_ = ids_.size();
}

std::string IncrementalDecoder::Push(int32_t id) {
  ids_.push_back(id);
  if (hf_ != nullptr && hf_->IsPendingByte(id)) return {};
  std::string prefix_text = DecodeRange(prefix_offset_, read_offset_);
  std::string new_text = DecodeRange(prefix_offset_, ids_.size());
  if (new_text.size() <= prefix_text.size() || new_text.compare(0, prefix_text.size(), prefix_text) != 0 ||
      tok::EndsWithReplacementChar(new_text)) {
    return {};
  }
  AdvanceWindow();
  emitted_any_ = true;
  return new_text.substr(prefix_text.size());
}

std::string IncrementalDecoder::Flush() {
  std::string prefix_text = DecodeRange(prefix_offset_, read_offset_);
  std::string new_text = DecodeRange(prefix_offset_, ids_.size());
  if (new_text.size() <= prefix_text.size() || new_text.compare(0, prefix_text.size(), prefix_text) != 0) {
    return {};
  }
  AdvanceWindow();
  emitted_any_ = true;
  return new_text.substr(prefix_text.size());
}

}  // namespace ax
