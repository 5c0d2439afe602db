#include "delegate_request.h"

#include <limits>
#include <set>

#include "json_fields.h"

namespace ax::server {
namespace {

constexpr int64_t kMaxInt = std::numeric_limits<int32_t>::max();

// An assistant turn's tool_calls: [{"id", "type": "function", "function": {"name",
// "arguments"}}], arguments as a JSON string or object (written back as text).
void ReadCalls(const nlohmann::json& calls, const std::string& path, std::vector<ax::ToolCall>* out, FieldReader* r) {
  if (!calls.is_array()) {
    r->Fail(InvalidField(path, "expected an array of tool calls"));
    return;
  }
  for (size_t i = 0; i < calls.size(); ++i) {
    const std::string at = path + "[" + std::to_string(i) + "]";
    const auto& c = calls[i];
    const auto f = c.is_object() ? c.find("function") : c.end();
    if (!c.is_object() || f == c.end() || !f->is_object() || !f->contains("name") || !(*f)["name"].is_string()) {
      r->Fail(InvalidField(at, "expected {\"id\", \"type\": \"function\", \"function\": {\"name\", \"arguments\"}}"));
      return;
    }
    ax::ToolCall call;
    if (c.contains("id") && c["id"].is_string()) call.id = c["id"].get<std::string>();
    call.name = (*f)["name"].get<std::string>();
    if (auto a = f->find("arguments"); a != f->end())
      call.arguments = a->is_string() ? a->get<std::string>() : a->dump();
    out->push_back(std::move(call));
  }
}

bool ReadMessages(const nlohmann::json& body, std::vector<ChatMessage>* out, ApiError* err) {
  auto it = body.find("messages");
  if (it == body.end() || !it->is_array() || it->empty()) {
    *err = InvalidField("messages", "expected a non-empty array of messages", "missing_required_parameter");
    return false;
  }
  for (size_t i = 0; i < it->size(); ++i) {
    const auto& m = (*it)[i];
    const std::string path = "messages[" + std::to_string(i) + "].";
    if (!m.is_object()) {
      *err = InvalidField("messages[" + std::to_string(i) + "]", "expected a message object");
      return false;
    }
    FieldReader r(m, path);
    ChatMessage msg;
    r.Enum("role", &msg.role, {"system", "developer", "user", "assistant", "tool"});
    if (r.ok() && !r.Has("role")) r.Fail("role", "is required");
    if (msg.role == "developer") msg.role = "system";
    auto c = m.find("content");
    const bool may_be_null = msg.role == "assistant";  // a turn with only tool calls
    if (r.ok() && (c == m.end() || c->is_null()) && !may_be_null) r.Fail("content", "is required for this role");
    if (r.ok() && c != m.end() && !(c->is_null() || c->is_string() || c->is_array()))
      r.Fail("content", "expected a string or an array of text parts");
    if (r.ok() && c != m.end() && c->is_string()) msg.content = c->get<std::string>();
    if (r.ok() && c != m.end() && c->is_array()) {
      for (size_t k = 0; k < c->size(); ++k) {
        const auto& part = (*c)[k];
        if (!part.is_object() || part.value("type", "") != "text" || !part.contains("text") ||
            !part["text"].is_string()) {
          r.Fail("content[" + std::to_string(k) + "]", "expected {\"type\": \"text\", \"text\": ...}");
          break;
        }
        if (k) msg.content += "\n";
        msg.content += part["text"].get<std::string>();
      }
    }
    r.String("name", &msg.name);
    if (msg.role == "tool") r.String("tool_call_id", &msg.tool_call_id);
    if (msg.role == "assistant") {
      r.String("reasoning_content", &msg.reasoning_content);
      if (r.ok() && r.Has("tool_calls")) ReadCalls(m.at("tool_calls"), path + "tool_calls", &msg.tool_calls, &r);
    }
    static const std::set<std::string> kKnown = {"role",         "content",           "name",
                                                 "tool_call_id", "reasoning_content", "tool_calls"};
    if (r.ok())
      for (const auto& [key, v] : m.items())
        if (!kKnown.count(key) || (key == "tool_call_id" && msg.role != "tool") ||
            ((key == "tool_calls" || key == "reasoning_content") && msg.role != "assistant")) {
          r.Fail(key,
                 kKnown.count(key) ? "not accepted for role '" + msg.role + "'" : "not forwarded by a delegated route");
          break;
        }
    if (!r.ok()) {
      *err = r.error();
      return false;
    }
    out->push_back(std::move(msg));
  }
  return true;
}

// tools, tool_choice, parallel_tool_calls, reasoning_effort: forwarded as sent (the
// upstream decides what a choice or a tool means; its 400 comes back).
void ReadChatOptions(FieldReader& r, SessionOptions* o) {
  if (r.ok() && r.Has("tools")) {
    const auto& tools = r.Get("tools");
    if (!tools.is_array()) r.Fail("tools", "expected an array of tool objects");
    for (size_t i = 0; r.ok() && tools.is_array() && i < tools.size(); ++i)
      if (!tools[i].is_object()) r.Fail("tools[" + std::to_string(i) + "]", "expected an object");
    if (r.ok()) o->tools_json = tools.dump();
  }
  if (r.ok() && r.Has("tool_choice")) {
    const auto& choice = r.Get("tool_choice");
    if (!choice.is_string() && !choice.is_object())
      r.Fail("tool_choice", "expected \"none\", \"auto\", \"required\" or {\"type\": \"function\", ...}");
    else
      o->tool_choice_json = choice.dump();
  }
  bool parallel = true;
  r.Bool("parallel_tool_calls", &parallel);
  if (r.ok() && r.Has("parallel_tool_calls")) o->parallel_tool_calls = parallel;
  r.Enum("reasoning_effort", &o->reasoning_effort, {"none", "minimal", "low", "medium", "high"});
}

}  // namespace

bool ParseDelegatedCall(const nlohmann::json& body, bool chat, int max_n, DelegatedCall* out, ApiError* err) {
  static const std::set<std::string> kShared = {
      "model", "max_tokens", "temperature", "top_p", "top_k", "min_p", "repetition_penalty", "presence_penalty",
      "frequency_penalty", "seed", "stop", "stream", "stream_options", "ignore_eos", "n", "user"};
  static const std::set<std::string> kChat = {"messages",    "max_completion_tokens", "tools",
                                              "tool_choice", "parallel_tool_calls",   "reasoning_effort"};
  for (const auto& [key, v] : body.items()) {
    if (kShared.count(key) || (chat ? kChat.count(key) > 0 : key == "prompt")) continue;
    const bool token_level = key == "logprobs" || key == "top_logprobs" || key == "echo" || key == "prompt_logprobs";
    *err = InvalidField(key,
                        token_level ? "a delegated route returns text only: no token-level fields "
                                      "(GET /v1/runtime: token_ids false)"
                                    : "not forwarded by a delegated route (GET /v1/runtime)",
                        "unsupported_on_delegated_route");
    return false;
  }
  out->chat = chat;
  FieldReader r(body);
  GenerateRequest& g = out->request;
  g.max_tokens = 0;
  r.Bool("stream", &out->stream);
  if (r.ok() && r.Has("stream_options")) {
    const auto& so = body.at("stream_options");
    if (!so.is_object()) r.Fail("stream_options", "expected an object");
    else out->include_usage = so.value("include_usage", false);
  }
  for (const char* name : {"max_tokens", "max_completion_tokens"}) r.Int(name, &g.max_tokens, 1, kMaxInt);
  SamplingOptions& s = g.sampling;
  r.Double("temperature", &s.temperature, 0.0, 2.0);
  r.Double("top_p", &s.top_p, 0.0, 1.0, /*lo_open=*/true);
  int64_t top_k = 0;
  r.Int("top_k", &top_k, -1, kMaxInt);
  s.top_k = top_k < 0 ? 0 : top_k;
  r.Double("min_p", &s.min_p, 0.0, 1.0);
  r.Double("repetition_penalty", &s.repetition_penalty, 0.0, 10.0, /*lo_open=*/true);
  r.Double("presence_penalty", &s.presence_penalty, -2.0, 2.0);
  r.Double("frequency_penalty", &s.frequency_penalty, -2.0, 2.0);
  int64_t seed = 0;
  r.Int("seed", &seed, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max());
  s.seed = static_cast<uint64_t>(seed);
  r.StringOrList("stop", &g.stop, 16);
  r.Bool("ignore_eos", &g.ignore_eos);
  r.Int("n", &out->options.n, 1, max_n);
  if (chat) ReadChatOptions(r, &out->options);
  std::string ignored;
  r.String("model", &ignored);
  r.String("user", &ignored);
  if (!r.ok()) {
    *err = r.error();
    return false;
  }
  if (chat) return ReadMessages(body, &out->messages, err);
  auto p = body.find("prompt");
  if (p != body.end() && p->is_string()) {
    g.prompt_text = p->get<std::string>();
    return true;
  }
  if (p != body.end() && p->is_array() && !p->empty()) {
    for (size_t i = 0; i < p->size(); ++i) {
      const auto& x = (*p)[i];
      if (!x.is_number_integer() || x.get<int64_t>() < 0 || x.get<int64_t>() > kMaxInt) {
        *err = InvalidField("prompt[" + std::to_string(i) + "]",
                            "expected a token id (one prompt per request on a delegated route)");
        return false;
      }
      g.prompt_tokens.push_back(x.get<int32_t>());
    }
    return true;
  }
  *err = InvalidField("prompt", "expected a string or an array of token ids", "missing_required_parameter");
  return false;
}

}  // namespace ax::server
