#include "chat_output.h"

#include <cstdio>

namespace ax::server {

ChatOutputParser::ChatOutputParser(const ApiRequest& req) : tools_(req.tool_format, req.tools) {
  if (req.split_reasoning) reasoning_.emplace(req.starts_in_reasoning, req.reasoning_format);
}

void ChatOutputParser::Add(const ReasoningSplitter::Piece& p, Piece* out) {
  out->reasoning += p.reasoning;
  ToolCallParser::Piece t = tools_.Feed(p.content);
  out->content += t.content;
  for (ToolCall& c : t.calls) out->calls.push_back(std::move(c));
}

ChatOutputParser::Piece ChatOutputParser::Feed(const std::string& text) {
  Piece out;
  if (reasoning_) Add(reasoning_->Feed(text), &out);
  else Add({"", text}, &out);
  calls_ += static_cast<int>(out.calls.size());
  return out;
}

ChatOutputParser::Piece ChatOutputParser::Finish() {
  Piece out;
  if (reasoning_) Add(reasoning_->Finish(), &out);
  ToolCallParser::Piece t = tools_.Finish();
  out.content += t.content;
  for (ToolCall& c : t.calls) out.calls.push_back(std::move(c));
  calls_ += static_cast<int>(out.calls.size());
  return out;
}

const std::vector<std::string>& ChatOutputParser::warnings() const { return tools_.warnings(); }

std::string ToolCallId(const std::string& response_id, size_t choice, size_t index) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a over the id, then the two indices
  auto mix = [&h](uint64_t byte) { h = (h ^ byte) * 1099511628211ull; };
  for (unsigned char c : response_id) mix(c);
  for (size_t v : {choice, index})
    for (int b = 0; b < 8; ++b) mix((v >> (8 * b)) & 0xff);
  const uint64_t h2 = h * 0x9e3779b97f4a7c15ull;
  char buf[32];
  std::snprintf(buf, sizeof(buf), "call_%016llx%08llx", static_cast<unsigned long long>(h),
                static_cast<unsigned long long>(h2 >> 32));
  return buf;
}

}  // namespace ax::server
