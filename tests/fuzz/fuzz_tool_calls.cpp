// libFuzzer target: the tool-call parser of the chat routes (server/tool_calls.h), the
// text a model answers with. Input: a format byte, a split count k, then the answer.
// The answer fed whole and fed in k + 1 pieces cut at positions taken from its own
// bytes must give the same content and calls (streamed == non-streamed), every piece's
// parts must be shaped as streamed (a call's first part names it, later parts follow
// the last call started), and the syntaxes whose arguments the parser writes itself
// (qwen3-coder, glm45, gemma4) must give a JSON object when the answer is valid UTF-8
// (as the engine's detokenized text is; other bytes pass through as they are).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tool_calls.h"

namespace {

using ax::server::ToolCallDelta;
using ax::server::ToolCallFormat;
using ax::server::ToolCallParser;

struct Answer {
  std::string content;
  std::vector<ax::server::ToolCall> calls;
};

Answer Parse(ToolCallFormat f, const nlohmann::json& tools, const std::string& s, const std::vector<size_t>& cuts) {
  ToolCallParser p(f, tools);
  Answer a;
  std::vector<ToolCallDelta> parts;
  auto add = [&](ToolCallParser::Piece piece) {
    a.content += piece.content;
    for (ToolCallDelta& d : piece.calls) {
      const size_t started = ax::server::JoinToolCalls(parts).size();
      if (d.index + (d.name.empty() ? 1 : 0) != started) std::abort();
      parts.push_back(std::move(d));
    }
  };
  size_t at = 0;
  for (size_t c : cuts) {
    add(p.Feed(s.substr(at, c - at)));
    at = c;
  }
  add(p.Feed(s.substr(at)));
  add(p.Finish());
  a.calls = ax::server::JoinToolCalls(parts);
  return a;
}

bool ValidUtf8(const std::string& s) {
  try {
    (void)nlohmann::json(s).dump();
    return true;
  } catch (const nlohmann::json::exception&) {
    return false;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  static const ToolCallFormat kFormats[] = {ToolCallFormat::kQwen3, ToolCallFormat::kQwen3Coder,
                                            ToolCallFormat::kGlm45, ToolCallFormat::kGemma4,
                                            ToolCallFormat::kLlama3Json};
  const ToolCallFormat f = kFormats[data[0] % 5];
  static const nlohmann::json tools = nlohmann::json::parse(R"([{"type": "function", "function": {"name": "f",
      "parameters": {"type": "object", "properties": {"s": {"type": "string"}, "n": {"type": "integer"},
      "b": {"type": "boolean"}, "o": {"type": "object"}}}}}])");
  const size_t k = data[1] % 16;
  const std::string s(reinterpret_cast<const char*>(data + 2), size - 2);
  std::vector<size_t> cuts;
  for (size_t i = 0; i < k && !s.empty(); ++i) {
    const size_t c = (static_cast<uint8_t>(s[i % s.size()]) * 131u + i * 17u) % (s.size() + 1);
    if (cuts.empty() || c >= cuts.back()) cuts.push_back(c);
  }
  const Answer whole = Parse(f, tools, s, {});
  const Answer split = Parse(f, tools, s, cuts);
  if (whole.content != split.content || whole.calls.size() != split.calls.size()) std::abort();
  for (size_t i = 0; i < whole.calls.size(); ++i) {
    if (whole.calls[i].name != split.calls[i].name || whole.calls[i].arguments != split.calls[i].arguments)
      std::abort();
    if (whole.calls[i].name.empty()) std::abort();
    const bool written = f == ToolCallFormat::kQwen3Coder || f == ToolCallFormat::kGlm45 || f == ToolCallFormat::kGemma4;
    if (written && ValidUtf8(s) && !nlohmann::json::parse(whole.calls[i].arguments, nullptr, false).is_object()) std::abort();
  }
  return 0;
}
