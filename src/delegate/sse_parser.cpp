#include "delegate/sse_parser.h"

namespace ax::delegate {

bool SseParser::Feed(std::string_view bytes) {
  for (char c : bytes) {
    if (c == '\n' && last_was_cr_) {
      last_was_cr_ = false;
      continue;
    }
    last_was_cr_ = c == '\r';
    if (c == '\n' || c == '\r') {
      if (!Line(line_)) return false;
      line_.clear();
    } else {
      line_ += c;
    }
  }
  return true;
}

bool SseParser::Line(std::string_view line) {
  if (line.empty()) {  // dispatch
    if (!has_data_) {
      pending_ = {};
      return true;
    }
    SseEvent ev = std::move(pending_);
    pending_ = {};
    has_data_ = false;
    return on_event_(ev);
  }
  if (line.front() == ':') return true;  // comment
  const size_t colon = line.find(':');
  std::string_view field = line.substr(0, colon);
  std::string_view value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
  if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  if (field == "data") {
    if (has_data_) pending_.data += '\n';
    pending_.data += value;
    has_data_ = true;
  } else if (field == "event") {
    pending_.event = std::string(value);
  }  // id, retry and unknown fields: nothing a one-shot request needs
  return true;
}

}  // namespace ax::delegate
