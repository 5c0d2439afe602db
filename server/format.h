// Job state → response JSON, per route. The same Formatter answers non-streaming
// requests (Response) and streaming ones (Prologue, OnEvent for each engine event,
// Epilogue), so streamed and non-streamed answers are built from the same pieces.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "job.h"

namespace ax::server {

class Formatter {
 public:
  virtual ~Formatter() = default;
  virtual nlohmann::json Response(const Job& job) const = 0;
  // Chunks sent before any token (chat: the role delta; completions: the echoed prompt).
  virtual std::vector<nlohmann::json> Prologue(const Job& job) const = 0;
  // Chunks for one event of choice `c` (none for an empty text delta).
  virtual std::vector<nlohmann::json> OnEvent(const Job& job, int c, const StreamEvent& ev) const = 0;
  // After every choice finished (the usage chunk when it was asked for).
  virtual std::vector<nlohmann::json> Epilogue(const Job& job) const = 0;
  // One chunk as Server-Sent Events: "data: <json>\n\n" (Anthropic's adds an
  // "event: <type>" line).
  virtual std::string Frame(const nlohmann::json& chunk) const;
  // What ends a stream: "data: [DONE]\n\n" (nothing for Anthropic's).
  virtual std::string Done() const { return "data: [DONE]\n\n"; }
};

// Anthropic's and the Responses API's streams: "event: <chunk's type>\ndata: <json>\n\n"
// frames and no "[DONE]".
class TypedEventFormatter : public Formatter {
 public:
  std::string Frame(const nlohmann::json& chunk) const override;
  std::string Done() const override { return ""; }
};

std::unique_ptr<Formatter> MakeFormatter(Route route);

// ---- shared pieces (format_common.cpp) ----
// OpenAI finish_reason: "stop", "length"; "cancelled" and "error" for the rest.
std::string FinishReasonString(FinishReason r);
// {"prompt_tokens", "completion_tokens", "total_tokens", "prompt_tokens_details": {"cached_tokens"}}
nlohmann::json UsageJson(const Job& job);
// A token's text for logprobs ("" for special tokens).
std::string TokenText(const Engine& engine, int32_t id);
// UTF-8 bytes as a JSON array of ints (chat logprobs' "bytes").
nlohmann::json BytesJson(const std::string& s);
// Chat-style logprobs entries {"token", "logprob", "bytes", "top_logprobs": [...]}.
nlohmann::json ChatLogprobEntries(const Engine& engine, const std::vector<TokenEvent>& tokens);
// Legacy completions logprobs {"tokens", "token_logprobs", "top_logprobs", "text_offset"};
// offsets start at `offset0` (the text already emitted before these tokens).
nlohmann::json CompletionLogprobs(const Engine& engine, const std::vector<TokenEvent>& tokens, size_t offset0);
// The echoed prompt's head of completions logprobs: its first token without a logprob
// (null), the rest from the prefill (ChoiceState::prompt_logprobs); offsets from 0.
nlohmann::json PromptCompletionLogprobs(const Engine& engine, const std::vector<int32_t>& ids,
                                        const std::vector<TokenEvent>& logprobs);
// Appends the arrays of completions logprobs `tail` to `head`'s.
void AppendCompletionLogprobs(nlohmann::json* head, const nlohmann::json& tail);
// {"error": {...}} for a choice that failed inside the engine.
nlohmann::json EngineErrorJson(const std::string& message);

}  // namespace ax::server
