// JSON → engine requests for the three generating routes. Parsing validates every
// field it reads (errors name the field), tokenizes prompts (chat: renders the chat
// template first) and checks them against the context, so a request that reaches the
// engine is one it accepts. docs/API-COMPATIBILITY.md lists every field.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ax/engine.h"
#include "errors.h"
#include "json_fields.h"
#include "reasoning.h"
#include "tool_calls.h"

namespace ax::server {

// kMessages: Anthropic's Messages API; kResponses: OpenAI's Responses API.
enum class Route { kCompletion, kChat, kGenerate, kMessages, kResponses };

struct ParseLimits {
  int64_t ctx_size = 0;
  int max_n = 16;           // choices per request (n × prompts)
  size_t max_stop = 16;     // stop strings
  size_t max_prompts = 64;  // prompts in one completions request
  // What a request gets for the sampling fields it omits (Engine::sampling_defaults).
  SamplingOptions sampling_defaults;
  // Chat answers split <think> … </think> into reasoning_content (server/reasoning.h).
  bool split_reasoning = false;
  ReasoningFormat reasoning_format = ReasoningFormat::kThink;  // its tags
  // The tool-call syntax chat answers are parsed with when a request gives tools
  // (--tool-call-parser; kNone: calls stay text).
  ToolCallFormat tool_format = ToolCallFormat::kNone;
};

struct PromptInput {
  std::vector<int32_t> ids;
  std::string text;  // completions echo: the prompt as text
};

// One parsed request; choice c = prompt (c / n), sample (c % n).
struct ApiRequest {
  Route route = Route::kCompletion;
  std::string model;              // as sent ("" when absent)
  std::vector<PromptInput> prompts;
  GenerateRequest base;           // sampling, stop, max_tokens ...; prompt fields unset
  int n = 1;
  bool stream = false;
  bool include_usage = false;     // stream_options.include_usage
  bool echo = false;              // completions
  bool logprobs = false;          // report the sampled token's logprob
  int top_logprobs = 0;           // and this many alternatives
  bool seed_given = false;
  bool split_reasoning = false;     // chat: reasoning_content split out (reasoning.h)
  bool starts_in_reasoning = false; // the rendered prompt opened the thinking block
  ReasoningFormat reasoning_format = ReasoningFormat::kThink;
  ToolCallFormat tool_format = ToolCallFormat::kNone;  // chat with tools: calls parsed out
  nlohmann::json tools;             // the request's tools (parameter types)
  std::string constraint_param;     // the field base.constraint came from (error messages)
  nlohmann::json repeated;          // Responses: the request's settings its response repeats
  // While parsing: the body as sent, in its own key order (JSON schemas are passed on
  // in it, so their properties are generated in the order they were written); for a
  // body rewritten from another API (Messages, Responses), its schemas where the chat
  // route reads them (OrderedChatSchemas). Null: sorted order.
  const nlohmann::ordered_json* source = nullptr;

  int num_choices() const { return static_cast<int>(prompts.size()) * n; }
  // The engine request of choice `c` (sample i of a prompt uses seed + i).
  GenerateRequest ChoiceRequest(int c) const;
};

// Each returns false and sets *err on a bad request. REQUIRES: body is a JSON object
// (the routes' ParseBody answers anything else with a 400 before parsing).
bool ParseCompletionRequest(const nlohmann::json& body, const Engine& engine, const ParseLimits& lim,
                            ApiRequest* out, ApiError* err);
bool ParseChatRequest(const nlohmann::json& body, const Engine& engine, const ParseLimits& lim, ApiRequest* out,
                      ApiError* err);
// The prompt a chat request renders: body.messages (+ tools, chat_template_kwargs,
// add_generation_prompt) through the model's chat template, tokenized as the chat route
// does (so /tokenize's count equals that request's usage.prompt_tokens).
bool RenderChatPrompt(const nlohmann::json& body, FieldReader& r, const Engine& engine, PromptInput* out,
                      ApiError* err);
// Anthropic's Messages API, rewritten into a chat request (messages_request.cpp).
bool ParseMessagesRequest(const nlohmann::json& body, const Engine& engine, const ParseLimits& lim, ApiRequest* out,
                          ApiError* err);
// OpenAI's Responses API (stateless), rewritten into a chat request (responses_request.cpp).
bool ParseResponsesRequest(const nlohmann::json& body, const Engine& engine, const ParseLimits& lim,
                           ApiRequest* out, ApiError* err);
// Native route: {"tokens": [ids] | "prompt": text, "max_tokens", sampling fields, "stream", ...}.
bool ParseGenerateRequest(const nlohmann::json& body, const Engine& engine, const ParseLimits& lim, ApiRequest* out,
                          ApiError* err);

}  // namespace ax::server
