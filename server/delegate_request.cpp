#include "delegate_request.h"

#include <limits>
#include <set>

#include "json_fields.h"

namespace ax::server {
namespace {

constexpr int64_t kMaxInt = std::numeric_limits<int32_t>::max();

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
    if (r.ok() && (c == m.end() || !(c->is_string() || c->is_array())))
      r.Fail("content", "expected a string or an array of text parts");
    if (r.ok() && c->is_string()) msg.content = c->get<std::string>();
    if (r.ok() && c->is_array()) {
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
    if (r.ok())
      for (const auto& [key, v] : m.items())
        if (key != "role" && key != "content" && key != "name") {
          r.Fail(key, "not forwarded by the openai_delegated route");
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

}  // namespace

bool ParseDelegatedCall(const nlohmann::json& body, bool chat, DelegatedCall* out, ApiError* err) {
  static const std::set<std::string> kShared = {
      "model", "max_tokens", "temperature", "top_p", "top_k", "min_p", "repetition_penalty", "presence_penalty",
      "frequency_penalty", "seed", "stop", "stream", "stream_options", "ignore_eos", "n", "user"};
  for (const auto& [key, v] : body.items()) {
    if (kShared.count(key) || (chat ? key == "messages" || key == "max_completion_tokens" : key == "prompt")) continue;
    const bool token_level = key == "logprobs" || key == "top_logprobs" || key == "echo" || key == "prompt_logprobs";
    *err = InvalidField(key, token_level ? "the openai_delegated route returns text only: no token-level fields "
                                           "(GET /v1/runtime: token_ids false)"
                                         : "not forwarded by the openai_delegated route (GET /v1/runtime)",
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
  int n = 1;
  r.Int("n", &n, 1, 1);
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
                            "expected a token id (one prompt per request on the openai_delegated route)");
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
