// libFuzzer target: the SSE parser of the delegated route (src/delegate/sse_parser.h).
// Input: a split count k (first byte), then the stream. The events must not depend on
// how the bytes arrive: the stream fed whole and fed in k + 1 pieces cut at positions
// taken from the stream's own bytes give the same events, and an event's data never
// holds a line ending the parser should have consumed as a line end ('\r').
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "delegate/sse_parser.h"

namespace {

std::vector<ax::delegate::SseEvent> Events(const std::string& s, const std::vector<size_t>& cuts) {
  std::vector<ax::delegate::SseEvent> out;
  ax::delegate::SseParser p([&](const ax::delegate::SseEvent& e) {
    out.push_back(e);
    return true;
  });
  size_t at = 0;
  for (size_t c : cuts) {
    p.Feed(std::string_view(s).substr(at, c - at));
    at = c;
  }
  p.Feed(std::string_view(s).substr(at));
  return out;
}

bool Same(const std::vector<ax::delegate::SseEvent>& a, const std::vector<ax::delegate::SseEvent>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].event != b[i].event || a[i].data != b[i].data) return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const size_t k = data[0] % 16;
  const std::string s(reinterpret_cast<const char*>(data + 1), size - 1);
  std::vector<size_t> cuts;
  for (size_t i = 0; i < k && !s.empty(); ++i) {
    const size_t c = (static_cast<uint8_t>(s[i % s.size()]) * 131u + i * 17u) % (s.size() + 1);
    if (cuts.empty() || c >= cuts.back()) cuts.push_back(c);
  }
  const auto whole = Events(s, {});
  const auto split = Events(s, cuts);
  if (!Same(whole, split)) std::abort();
  for (const auto& e : whole)
    if (e.data.find('\r') != std::string::npos) std::abort();
  return 0;
}
