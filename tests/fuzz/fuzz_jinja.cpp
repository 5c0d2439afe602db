// libFuzzer target: a chat template and its context. The input is the template's
// source, then a NUL byte and the context JSON (a default chat context when absent
// or not an object). Parsing and rendering return text or an error with a message;
// they never crash, recurse without bound or run past the render limits.
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "tokenizer/chat_template.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string in(reinterpret_cast<const char*>(data), size);
  const size_t nul = in.find('\0');
  const std::string source = in.substr(0, nul);
  std::string context =
      R"({"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"},)"
      R"( {"role": "assistant", "content": "hello", "tool_calls": [{"type": "function", "function":)"
      R"( {"name": "f", "arguments": {"a": 1}}}]}, {"role": "tool", "content": "42"}],)"
      R"( "add_generation_prompt": true, "tools": [{"type": "function", "function": {"name": "f",)"
      R"( "parameters": {"type": "object", "properties": {"a": {"type": "integer"}}}}}]})";
  if (nul != std::string::npos) {
    const auto j = nlohmann::json::parse(in.substr(nul + 1), nullptr, /*allow_exceptions=*/false);
    if (j.is_object()) context = j.dump();
  }
  auto tmpl = ax::ChatTemplate::FromSource(source, "<s>", "</s>");
  if (!tmpl.ok()) {
    if (tmpl.status().message().empty()) std::abort();
    return 0;
  }
  auto out = (*tmpl)->Render(context);
  if (!out.ok() && out.status().message().empty()) std::abort();
  return 0;
}
