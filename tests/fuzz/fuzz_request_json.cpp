// libFuzzer target: the JSON body of every generating route through the server's
// parsers. Input: the route's name on the first line ("completions", "chat",
// "messages", "responses", "generate"), the body after it. The engine is the demo model
// with Qwen3's chat template (tools, reasoning) on the CPU backend; nothing is
// generated. A parse either succeeds with prompts of in-vocabulary ids that fit the
// context, or fails with a 4xx status and a message; it never crashes.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "api_request.h"
#include "ax/engine.h"

namespace {

ax::Engine* MakeEngine() {
  // Qwen3's template from the shared tokenizer config, as a file the engine reads.
  std::ifstream in(std::string(AX_SHARED_DIR) + "/tokenizers/qwen3/tokenizer_config.json");
  const nlohmann::json cfg = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (cfg.is_discarded() || !cfg.contains("chat_template")) {
    std::fprintf(stderr, "fuzz_request_json: no chat template under %s/tokenizers/qwen3\n", AX_SHARED_DIR);
    std::abort();
  }
  const std::string tmpl = "/tmp/ax_fuzz_request_json_template.jinja";
  std::ofstream(tmpl) << cfg["chat_template"].get<std::string>();
  ax::EngineConfig e;
  e.model_dir = std::string(AX_SOURCE_DIR) + "/models/ax-demo-qwen3";
  e.backend = "cpu";
  e.threads = 1;
  e.ctx_size = 512;
  e.chat_template_file = tmpl;
  auto engine = ax::Engine::Create(e);
  if (!engine.ok()) {
    std::fprintf(stderr, "fuzz_request_json: %s\n", engine.status().ToString().c_str());
    std::abort();
  }
  return engine->release();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static ax::Engine* engine = MakeEngine();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const size_t nl = text.find('\n');
  if (nl == std::string_view::npos) return 0;
  const std::string_view route = text.substr(0, nl);
  nlohmann::json body = nlohmann::json::parse(text.substr(nl + 1), nullptr, /*allow_exceptions=*/false);
  // The routes hand the parsers JSON objects only (ParseBody answers anything else with
  // a 400 first), which is the parsers' precondition.
  if (body.is_discarded() || !body.is_object()) return 0;

  using namespace ax::server;
  ParseLimits lim;
  lim.ctx_size = engine->ctx_size();
  lim.split_reasoning = true;
  lim.tool_format = ToolCallFormat::kQwen3;
  ApiRequest r;
  ApiError err;
  bool ok = false;
  if (route == "completions") ok = ParseCompletionRequest(body, *engine, lim, &r, &err);
  else if (route == "chat") ok = ParseChatRequest(body, *engine, lim, &r, &err);
  else if (route == "messages") ok = ParseMessagesRequest(body, *engine, lim, &r, &err);
  else if (route == "responses") ok = ParseResponsesRequest(body, *engine, lim, &r, &err);
  else if (route == "generate") ok = ParseGenerateRequest(body, *engine, lim, &r, &err);
  else return 0;
  if (!ok) {
    if (err.message.empty() || err.http_status < 400 || err.http_status >= 500) std::abort();
    return 0;
  }
  if (r.prompts.empty() || r.n < 1) std::abort();
  for (const PromptInput& p : r.prompts) {
    if (p.ids.empty() || static_cast<int64_t>(p.ids.size()) >= lim.ctx_size) std::abort();
    for (int32_t id : p.ids)
      if (id < 0 || id >= engine->vocab_size()) std::abort();
  }
  return 0;
}
