#include "tokenizer/hf_tokenizer.h"
#include "tokenizer/utf8.h"

namespace ax {

IncrementalDecoder::IncrementalDecoder(const Tokenizer& tok, bool skip_special_tokens)
    : tok_(tok),
      hf_(dynamic_cast<const tok::HfTokenizer*>(&tok)),
      skip_special_(skip_special_tokens) {}

std::string IncrementalDecoder::DecodeRange(size_t begin, size_t end) const {
  const auto* hf = static_cast<const tok::HfTokenizer*>(hf_);
  if (hf == nullptr) {
    // Another Tokenizer implementation: plain decoding of the window.
    return tok_.Decode(std::vector<int32_t>(ids_.begin() + static_cast<ptrdiff_t>(begin),
                                            ids_.begin() + static_cast<ptrdiff_t>(end)),
                       skip_special_);
  }
  tok::DecodeState st;
  st.first_is_global = window_at_start_;
  st.text_before_empty = text_before_empty_;
  return hf->DecodeWindow(ids_.data() + begin, end - begin, skip_special_, st);
}

std::string IncrementalDecoder::Push(int32_t id) {
  ids_.push_back(id);
  const auto* hf = static_cast<const tok::HfTokenizer*>(hf_);
  if (hf != nullptr && hf->IsPendingByte(id)) return {};
  std::string prefix_text = DecodeRange(prefix_offset_, read_offset_);
  std::string new_text = DecodeRange(prefix_offset_, ids_.size());
  if (new_text.size() <= prefix_text.size() || new_text.compare(0, prefix_text.size(), prefix_text) != 0 ||
      tok::EndsWithReplacementChar(new_text)) {
    return {};
  }
  // The next window starts at read_offset_, whose text is everything emitted so far.
  if (hf != nullptr) {
    for (size_t i = prefix_offset_; i < read_offset_ && window_at_start_; ++i) {
      if (hf->Contributes(ids_[i], skip_special_)) window_at_start_ = false;
    }
  } else if (read_offset_ > prefix_offset_) {
    window_at_start_ = false;
  }
  text_before_empty_ = !emitted_any_;
  prefix_offset_ = read_offset_;
  read_offset_ = ids_.size();
  emitted_any_ = true;
  return new_text.substr(prefix_text.size());
}

std::string IncrementalDecoder::Flush() {
  std::string prefix_text = DecodeRange(prefix_offset_, read_offset_);
  std::string new_text = DecodeRange(prefix_offset_, ids_.size());
  std::string delta;
  if (new_text.size() > prefix_text.size() && new_text.compare(0, prefix_text.size(), prefix_text) == 0) {
    delta = new_text.substr(prefix_text.size());
  }
  read_offset_ = ids_.size();
  prefix_offset_ = ids_.size();
  if (!delta.empty()) emitted_any_ = true;
  window_at_start_ = window_at_start_ && !emitted_any_;
  text_before_empty_ = !emitted_any_;
  return delta;
}

}  // namespace ax
