// An incremental parser of Server-Sent Events (the WHATWG "event stream" format) as
// OpenAI-compatible servers send them:
//
//   data: {"choices": [...]}\n\n          one event, its data one JSON line
//   : keep-alive\n\n                      a comment, ignored
//   data: [DONE]\n\n                      OpenAI's end marker (an ordinary event here)
//
// Lines end with \n, \r\n or \r; several "data:" lines of one event are joined with
// \n; one space after the colon is dropped; "event:" names the event. Feed() takes the
// bytes as they arrive, split anywhere (even inside a \r\n).
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace ax::delegate {

struct SseEvent {
  std::string event;  // "" when the stream names none ("message")
  std::string data;
};

class SseParser {
 public:
  // on_event returns false to stop: Feed() then returns false and drops the rest.
  explicit SseParser(std::function<bool(const SseEvent&)> on_event) : on_event_(std::move(on_event)) {}
  bool Feed(std::string_view bytes);

 private:
  bool Line(std::string_view line);

  std::function<bool(const SseEvent&)> on_event_;
  std::string line_;
  bool last_was_cr_ = false;  // a \n right after a \r ends no second line
  SseEvent pending_;
  bool has_data_ = false;
};

}  // namespace ax::delegate
