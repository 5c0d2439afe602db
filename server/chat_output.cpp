#include "chat_output.h"

#include <cstdio>

namespace ax::server {
namespace {

// Appends parts, joining a part to the last one when both belong to the same call.
void Append(std::vector<ToolCallDelta> parts, std::vector<ToolCallDelta>* to) {
  for (ToolCallDelta& p : parts) {
    if (!to->empty() && to->back().index == p.index && p.name.empty()) to->back().arguments += p.arguments;
    else to->push_back(std::move(p));
  }
}

}  // namespace

void ChatOutputParser::Count(const Piece& p) {
  for (const ToolCallDelta& d : p.calls)
    if (!d.name.empty()) ++calls_;
}

ChatOutputParser::ChatOutputParser(const ApiRequest& req) : tools_(req.tool_format, req.tools) {
  if (req.split_reasoning) reasoning_.emplace(req.starts_in_reasoning, req.reasoning_format);
}

void ChatOutputParser::Add(const ReasoningSplitter::Piece& p, Piece* out) {
  out->reasoning += p.reasoning;
  ToolCallParser::Piece t = tools_.Feed(p.content);
  out->content += t.content;
  Append(std::move(t.calls), &out->calls);
}

ChatOutputParser::Piece ChatOutputParser::Feed(const std::string& text) {
  Piece out;
  if (reasoning_) Add(reasoning_->Feed(text), &out);
  else Add({"", text}, &out);
  Count(out);
  return out;
}

ChatOutputParser::Piece ChatOutputParser::Finish() {
  Piece out;
  if (reasoning_) Add(reasoning_->Finish(), &out);
  ToolCallParser::Piece t = tools_.Finish();
  out.content += t.content;
  Append(std::move(t.calls), &out.calls);
  Count(out);
  return out;
}

ChatOutputParser::Piece ChatOutputParser::Take(const std::string& text, bool last, const std::string& request_id) {
  Piece p = Feed(text);
  if (!last) return p;
  Piece tail = Finish();
  p.reasoning += tail.reasoning;
  p.content += tail.content;
  Append(std::move(tail.calls), &p.calls);
  for (const std::string& w : warnings())
    std::fprintf(stderr, "ax-engine-server: warning: %s: %s\n", request_id.c_str(), w.c_str());
  return p;
}

const std::vector<std::string>& ChatOutputParser::warnings() const { return tools_.warnings(); }

std::string DerivedId(const std::string& prefix, const std::string& response_id, size_t a, size_t b) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a over the id, then the two indices
  auto mix = [&h](uint64_t octet) { h = (h ^ octet) * 1099511628211ull; };
  for (unsigned char c : response_id) mix(c);
  for (size_t v : {a, b})
    for (int byte = 0; byte < 8; ++byte) mix((v >> (8 * byte)) & 0xff);
  const uint64_t h2 = h * 0x9e3779b97f4a7c15ull;
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%016llx%08llx", static_cast<unsigned long long>(h),
                static_cast<unsigned long long>(h2 >> 32));
  return prefix + buf;
}

}  // namespace ax::server
