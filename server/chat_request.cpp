// POST /v1/chat/completions: messages → the model's chat template → prompt ids.
#include "api_request.h"
#include "common_fields.h"
#include "json_fields.h"
#include "reasoning.h"
#include "request_rewrite.h"
#include "tool_call_grammar.h"
#include "tool_choice.h"

namespace ax::server {
namespace {

constexpr int kMaxTopLogprobs = 20;

// content: "text" | [{"type": "text", "text": "..."}, ...] | null. Text parts are joined
// with "\n" (as vLLM does); other part types (images, audio, files) are rejected.
bool ReadContent(const nlohmann::json& m, const std::string& path, bool may_be_null, nlohmann::json* out,
                 ApiError* err) {
  auto it = m.find("content");
  if (it == m.end() || it->is_null()) {
    if (may_be_null) {  // an assistant turn with only tool calls: "" (templates test `in content`)
      *out = "";
      return true;
    }
    *err = InvalidField(path + "content", "is required for this role", "missing_required_parameter");
    return false;
  }
  std::string text;
  if (!JoinTextParts(*it, path + "content", {"text"}, &text, err)) return false;
  *out = text;
  return true;
}

// An assistant turn's tool_calls for the template, with each function.arguments that is
// a JSON object written as a string (as OpenAI clients send it) given as that object:
// templates expect a mapping (Gemma 4 writes call:f{k:v} from it; a string would go in
// verbatim, call:f{{"k": v}}), as vLLM hands them over. Other arguments stay as sent.
nlohmann::json ArgumentsAsObjects(nlohmann::json calls) {
  for (auto& call : calls) {
    if (!call.is_object() || !call.contains("function") || !call["function"].is_object()) continue;
    auto& function = call["function"];
    if (!function.contains("arguments") || !function["arguments"].is_string()) continue;
    auto parsed = nlohmann::json::parse(function["arguments"].get<std::string>(), nullptr, /*allow_exceptions=*/false);
    if (parsed.is_object()) function["arguments"] = std::move(parsed);
  }
  return calls;
}

bool ReadMessage(const nlohmann::json& m, size_t i, nlohmann::json* out, ApiError* err) {
  const std::string path = "messages[" + std::to_string(i) + "].";
  if (!m.is_object()) {
    *err = InvalidField("messages[" + std::to_string(i) + "]", "expected a message object, got " + JsonTypeName(m));
    return false;
  }
  FieldReader r(m, path);
  std::string role;
  if (!r.Has("role")) {
    *err = InvalidField(path + "role", "is required", "missing_required_parameter");
    return false;
  }
  r.Enum("role", &role, {"system", "developer", "user", "assistant", "tool"});
  if (!r.ok()) {
    *err = r.error();
    return false;
  }
  nlohmann::json msg = {{"role", role == "developer" ? "system" : role}};
  nlohmann::json content;
  if (!ReadContent(m, path, /*may_be_null=*/role == "assistant", &content, err)) return false;
  msg["content"] = content;
  std::string s;
  r.String("name", &s);
  if (r.ok() && r.Has("name")) msg["name"] = s;
  if (role == "tool") {
    std::string id;
    r.String("tool_call_id", &id);
    if (r.ok() && r.Has("tool_call_id")) msg["tool_call_id"] = id;
  }
  if (role == "assistant") {
    if (r.ok() && r.Has("tool_calls")) {
      const auto& tc = m.at("tool_calls");
      if (!tc.is_array()) r.Fail("tool_calls", "expected an array, got " + JsonTypeName(tc));
      else msg["tool_calls"] = ArgumentsAsObjects(tc);
    }
    std::string reasoning;
    r.String("reasoning_content", &reasoning);
    if (r.ok() && r.Has("reasoning_content")) msg["reasoning_content"] = reasoning;
  }
  if (!r.ok()) {
    *err = r.error();
    return false;
  }
  *out = std::move(msg);
  return true;
}

// tools, tool_choice, chat_template_kwargs, reasoning_effort → the template context
// (response_format: ReadCommonFields, with the other output constraints).
void ReadChatOptions(const nlohmann::json& body, FieldReader& r, nlohmann::json* context) {
  const ToolChoice tool_choice = ReadToolChoice(r, body);
  if (r.ok() && r.Has("tools")) {
    const auto& tools = r.Get("tools");
    if (!tools.is_array()) {
      r.Fail("tools", "expected an array of tool objects, got " + JsonTypeName(tools));
    } else {
      for (size_t i = 0; i < tools.size() && r.ok(); ++i)
        if (!tools[i].is_object()) r.Fail("tools[" + std::to_string(i) + "]", "expected an object");
      if (r.ok() && tool_choice.kind != ToolChoice::Kind::kNone && !tools.empty()) (*context)["tools"] = tools;
    }
  }
  bool parallel = true;
  r.Bool("parallel_tool_calls", &parallel);  // a forced tool choice's calls (ParseChatRequest)
  if (r.ok() && r.Has("modalities")) {
    const auto& m = r.Get("modalities");
    if (!m.is_array()) r.Fail("modalities", "expected an array, got " + JsonTypeName(m));
    for (size_t i = 0; r.ok() && m.is_array() && i < m.size(); ++i)
      if (m[i] != "text")
        r.Fail(InvalidField("modalities[" + std::to_string(i) + "]", "only \"text\" output is supported",
                            "unsupported_value"));
  }
  for (const char* name : {"audio", "functions", "function_call"})
    if (r.ok() && r.Has(name))
      r.Fail(InvalidField(name,
                          std::string(name) == "audio" ? "audio output is not supported"
                                                       : "the deprecated functions API is not supported; use 'tools'",
                          "unsupported_parameter"));
  if (r.ok() && r.Has("chat_template_kwargs")) {
    const auto& kw = r.Get("chat_template_kwargs");
    if (!kw.is_object()) r.Fail("chat_template_kwargs", "expected an object, got " + JsonTypeName(kw));
    else
      for (auto it = kw.begin(); it != kw.end(); ++it)
        if (it.key() != "messages") (*context)[it.key()] = it.value();
  }
  // reasoning_effort reaches templates that read it (gpt-oss) and, unless
  // chat_template_kwargs says otherwise, turns thinking off ("none") or on for the
  // templates with an enable_thinking switch (Qwen3, GLM-4.5+).
  if (r.ok() && r.Has("reasoning_effort")) {
    std::string effort;
    r.Enum("reasoning_effort", &effort, {"none", "minimal", "low", "medium", "high"});
    if (r.ok()) {
      (*context)["reasoning_effort"] = effort;
      if (!context->contains("enable_thinking")) (*context)["enable_thinking"] = effort != "none";
    }
  }
}

bool RenderPrompt(const Engine& engine, const nlohmann::json& context, PromptInput* p, ApiError* err) {
  if (!engine.has_chat_template()) {
    *err = InvalidField("messages",
                        "this model has no chat template (tokenizer_config.json chat_template); use /v1/completions",
                        "chat_template_missing");
    return false;
  }
  auto text = engine.ApplyChatTemplate(context.dump());
  if (!text.ok()) {
    *err = FromStatus(text.status(), "messages");
    if (err->http_status == 400) err->message = "'messages': the chat template failed: " + text.status().message();
    return false;
  }
  // The template writes the special tokens itself (as transformers' apply_chat_template).
  auto ids = engine.Tokenize(*text, /*add_special_tokens=*/false);
  if (!ids.ok()) {
    *err = FromStatus(ids.status(), "messages");
    return false;
  }
  if (ids->empty()) {
    *err = InvalidField("messages", "the rendered conversation has no tokens");
    return false;
  }
  p->ids = std::move(ids).value();
  p->text = std::move(text).value();
  return true;
}

}  // namespace

bool RenderChatPrompt(const nlohmann::json& body, FieldReader& r, const Engine& engine, PromptInput* out,
                      ApiError* err) {
  if (!r.Has("messages")) {
    *err = InvalidField("messages", "is required", "missing_required_parameter");
    return false;
  }
  const auto& messages = body.at("messages");
  if (!messages.is_array() || messages.empty()) {
    *err = InvalidField("messages", "expected a non-empty array of messages");
    return false;
  }
  bool add_generation_prompt = true;
  r.Bool("add_generation_prompt", &add_generation_prompt);  // vLLM's extension
  nlohmann::json context = {{"add_generation_prompt", add_generation_prompt}};
  ReadChatOptions(body, r, &context);
  if (!r.ok()) {
    *err = r.error();
    return false;
  }
  nlohmann::json msgs = nlohmann::json::array();
  for (size_t i = 0; i < messages.size(); ++i) {
    nlohmann::json m;
    if (!ReadMessage(messages[i], i, &m, err)) return false;
    msgs.push_back(std::move(m));
  }
  context["messages"] = std::move(msgs);
  return RenderPrompt(engine, context, out, err);
}

// The constraint and the output parsing of a forced tool choice (tool_choice.h): calls
// in the syntax of the server's tool-call parser (tool_call_grammar.h).
bool ForceToolChoice(const nlohmann::json& body, const ToolChoice& choice, const ParseLimits& lim, ApiRequest* out,
                     ApiError* err) {
  if (out->base.constraint.kind != OutputConstraint::Kind::kNone) {
    *err = InvalidField("tool_choice", "a forced tool choice cannot be combined with '" + out->constraint_param + "'");
    return false;
  }
  out->tools = body["tools"];
  ForcedCallsSpec spec;
  spec.format = lim.tool_format;
  spec.choice = choice;
  spec.tools = &out->tools;
  if (out->source != nullptr && out->source->contains("tools") && (*out->source)["tools"].is_array())
    spec.ordered_tools = &(*out->source)["tools"];
  spec.parallel = body.value("parallel_tool_calls", true);
  // A thinking block the prompt opened is closed before the calls (and split out as
  // usual); otherwise the calls come first and no reasoning is generated.
  const bool close_reasoning = out->starts_in_reasoning && out->reasoning_format == ReasoningFormat::kThink;
  if (close_reasoning) spec.reasoning_close = "</think>";
  out->split_reasoning = close_reasoning;
  ForcedCalls forced = BuildForcedCalls(spec);
  if (forced.constraint.kind == OutputConstraint::Kind::kNone) {
    *err = InvalidField("tools",
                        "a forced tool choice needs a tool {\"type\": \"function\", \"function\": {\"name\": ...}}");
    return false;
  }
  out->base.constraint = std::move(forced.constraint);
  out->constraint_param = "tools";  // the engine's compile errors are about a tool's parameters
  out->tool_format = forced.format;
  // The tags the grammar names may be special tokens of this tokenizer: their text must
  // reach the parser. No other special token can be generated under the constraint (a
  // stop token's text is never part of the output).
  if (!out->base.constraint.special_tokens.empty()) out->base.skip_special_tokens = false;
  return true;
}

bool ParseChatRequest(const nlohmann::json& body, const Engine& engine, const ParseLimits& lim, ApiRequest* out,
                      ApiError* err) {
  out->route = Route::kChat;
  FieldReader r(body);
  ReadCommonFields(r, lim, out);
  std::optional<int64_t> max_tokens;
  std::string max_param = "max_tokens";
  for (const char* name : {"max_tokens", "max_completion_tokens"}) {  // the newer name wins
    if (!r.Has(name)) continue;
    int64_t v = 0;
    r.Int(name, &v, 1, std::max<int64_t>(1, lim.ctx_size));
    max_tokens = v;
    max_param = name;
  }
  r.Bool("logprobs", &out->logprobs);
  r.Int("top_logprobs", &out->top_logprobs, 0, kMaxTopLogprobs);
  if (r.ok() && r.Has("top_logprobs") && !out->logprobs)
    r.Fail("top_logprobs", "requires 'logprobs': true");
  if (!r.ok()) {
    *err = r.error();
    return false;
  }
  out->prompts.emplace_back();
  if (!RenderChatPrompt(body, r, engine, &out->prompts.back(), err)) return false;
  out->split_reasoning = lim.split_reasoning;
  out->reasoning_format = lim.reasoning_format;
  // Gemma 4's channel tags are special tokens: the text has to keep them to be split.
  if (lim.split_reasoning && lim.reasoning_format == ReasoningFormat::kGemma4) out->base.skip_special_tokens = false;
  // A forced tool choice: the answer is constrained to calls (tool_call_grammar.h).
  FieldReader choice_reader(body);
  const ToolChoice choice = ReadToolChoice(choice_reader, body);
  const auto tools = body.find("tools");
  out->starts_in_reasoning =
      out->split_reasoning && PromptOpensThinking(out->prompts.back().text, lim.reasoning_format);
  if (choice.forced()) {
    if (!ForceToolChoice(body, choice, lim, out, err)) return false;
  } else if (lim.tool_format != ToolCallFormat::kNone && tools != body.end() && tools->is_array() && !tools->empty() &&
             choice.kind != ToolChoice::Kind::kNone) {
    // Calls are parsed in the family's syntax when the request offers tools.
    out->tool_format = lim.tool_format;
    out->tools = *tools;
    if (ToolCallFormatNeedsSpecialTokens(lim.tool_format)) out->base.skip_special_tokens = false;
  }
  out->starts_in_reasoning = out->starts_in_reasoning && out->split_reasoning;
  const int64_t prompt_len = static_cast<int64_t>(out->prompts[0].ids.size());
  return ResolveMaxTokens(max_tokens, max_param, /*fallback: the rest of the context*/ lim.ctx_size, prompt_len, lim,
                          "messages", &out->base.max_tokens, err);
}

}  // namespace ax::server
