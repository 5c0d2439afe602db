#include "format.h"
#include "sse.h"

namespace ax::server {

std::string FinishReasonString(FinishReason r) { return FinishReasonName(r); }

nlohmann::json UsageJson(const Job& job) {
  const int64_t p = job.prompt_tokens(), c = job.completion_tokens();
  return {{"prompt_tokens", p},
          {"completion_tokens", c},
          {"total_tokens", p + c},
          {"prompt_tokens_details", {{"cached_tokens", job.cached_tokens()}}}};
}

std::string TokenText(const Engine& engine, int32_t id) {
  auto t = engine.Detokenize({id});
  return t.ok() ? std::move(t).value() : std::string();
}

nlohmann::json BytesJson(const std::string& s) {
  nlohmann::json a = nlohmann::json::array();
  for (unsigned char ch : s) a.push_back(static_cast<int>(ch));
  return a;
}

nlohmann::json ChatLogprobEntries(const Engine& engine, const std::vector<TokenEvent>& tokens) {
  nlohmann::json out = nlohmann::json::array();
  for (const TokenEvent& t : tokens) {
    const std::string text = TokenText(engine, t.id);
    nlohmann::json top = nlohmann::json::array();
    for (const auto& [id, lp] : t.top_logprobs) {
      const std::string tt = TokenText(engine, id);
      top.push_back({{"token", tt}, {"logprob", lp}, {"bytes", BytesJson(tt)}});
    }
    out.push_back({{"token", text}, {"logprob", t.logprob}, {"bytes", BytesJson(text)}, {"top_logprobs", top}});
  }
  return out;
}

nlohmann::json CompletionLogprobs(const Engine& engine, const std::vector<TokenEvent>& tokens, size_t offset0) {
  nlohmann::json toks = nlohmann::json::array(), lps = nlohmann::json::array(), tops = nlohmann::json::array(),
                 offs = nlohmann::json::array();
  size_t offset = offset0;
  for (const TokenEvent& t : tokens) {
    const std::string text = TokenText(engine, t.id);
    toks.push_back(text);
    lps.push_back(t.logprob);
    nlohmann::json top = nlohmann::json::object();
    for (const auto& [id, lp] : t.top_logprobs) top[TokenText(engine, id)] = lp;
    tops.push_back(top);
    offs.push_back(offset);
    offset += text.size();
  }
  return {{"tokens", toks}, {"token_logprobs", lps}, {"top_logprobs", tops}, {"text_offset", offs}};
}

nlohmann::json PromptCompletionLogprobs(const Engine& engine, const std::vector<int32_t>& ids,
                                        const std::vector<TokenEvent>& logprobs) {
  const std::string first = ids.empty() ? "" : TokenText(engine, ids[0]);
  nlohmann::json head = {{"tokens", {first}}, {"token_logprobs", {nullptr}}, {"top_logprobs", {nullptr}},
                         {"text_offset", {0}}};
  AppendCompletionLogprobs(&head, CompletionLogprobs(engine, logprobs, first.size()));
  return head;
}

void AppendCompletionLogprobs(nlohmann::json* head, const nlohmann::json& tail) {
  for (const char* k : {"tokens", "token_logprobs", "top_logprobs", "text_offset"})
    for (const auto& v : tail[k]) (*head)[k].push_back(v);
}

nlohmann::json EngineErrorJson(const std::string& message) {
  return {{"error",
           {{"message", "generation failed: " + message}, {"type", "server_error"}, {"param", nullptr},
            {"code", "engine_error"}}}};
}

std::unique_ptr<Formatter> MakeCompletionFormatter();
std::unique_ptr<Formatter> MakeChatFormatter();
std::unique_ptr<Formatter> MakeGenerateFormatter();
std::unique_ptr<Formatter> MakeMessagesFormatter();
std::unique_ptr<Formatter> MakeResponsesFormatter();

std::string Formatter::Frame(const nlohmann::json& chunk) const { return SseEvent(chunk); }

std::string TypedEventFormatter::Frame(const nlohmann::json& chunk) const {
  return "event: " + chunk.value("type", std::string("message")) + "\n" + SseEvent(chunk);
}

std::unique_ptr<Formatter> MakeFormatter(Route route) {
  switch (route) {
    case Route::kMessages: return MakeMessagesFormatter();
    case Route::kResponses: return MakeResponsesFormatter();
    case Route::kCompletion: return MakeCompletionFormatter();
    case Route::kChat: return MakeChatFormatter();
    case Route::kGenerate: return MakeGenerateFormatter();
  }
  return nullptr;
}

}  // namespace ax::server
