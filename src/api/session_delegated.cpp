// The openai_delegated route: completions and chats forwarded to an OpenAI-compatible
// upstream (/v1/completions, /v1/chat/completions), blocking or as SSE re-read chunk by
// chunk. The upstream returns text: chunks carry no token ids (RuntimeReport::token_ids
// is false), and the timings are the upstream's. A chat's reasoning and tool calls, and
// the n choices of a request, come through as the upstream splits them. On the
// llama_cpp route (llama-server) n > 1 is n requests of one choice each (Start).
#include <mutex>

#include <nlohmann/json.hpp>

#include "api/delegated_stream.h"
#include "api/session_routes.h"
#include "delegate/upstream_client.h"

namespace ax {
namespace {

using delegate::UpstreamClient;

// Most choices a request may ask an upstream for (OpenAI allows 128).
constexpr int kMaxChoices = 128;

// Fields of a GenerateRequest an upstream cannot be asked for: refused by name rather
// than dropped.
Status CheckDelegable(const GenerateRequest& r, SupportTier tier) {
  auto refuse = [tier](const std::string& field) {
    return InvalidArgument(field + ": not supported by the " + SupportTierName(tier) +
                           " route (the upstream's API has no such field)");
  };
  if (r.constraint.kind != OutputConstraint::Kind::kNone) return refuse("constraint");
  if (r.prompt_logprobs >= 0) return refuse("prompt_logprobs");
  if (!r.stop_token_ids.empty()) return refuse("stop_token_ids");
  if (r.sampling.logprobs || r.sampling.top_logprobs > 0) return refuse("sampling.logprobs");
  if (!r.policy.empty()) return refuse("policy");
  if (r.priority != 0) return refuse("priority");
  if (!r.skip_special_tokens) return refuse("skip_special_tokens");
  if (r.max_tokens < 0) return InvalidArgument("max_tokens: expected 0 (the upstream's default) or more");
  return Status::Ok();
}

// The request body, every sampling field explicit so that the upstream's own defaults
// (a generation_config, say) never stand in for ours.
nlohmann::json RequestBody(const std::string& model, const GenerateRequest& r) {
  const SamplingOptions& s = r.sampling;
  nlohmann::json body = {
      {"model", model},
      {"temperature", s.temperature},
      {"top_p", s.top_p},
      {"top_k", s.top_k > 0 ? s.top_k : -1},  // -1: off (vLLM's spelling; ours accepts it)
      {"min_p", s.min_p},
      {"repetition_penalty", s.repetition_penalty},
      {"presence_penalty", s.presence_penalty},
      {"frequency_penalty", s.frequency_penalty},
      {"seed", static_cast<int64_t>(s.seed)},
  };
  if (r.max_tokens > 0) body["max_tokens"] = r.max_tokens;
  if (!r.stop.empty()) body["stop"] = r.stop;
  if (r.ignore_eos) body["ignore_eos"] = true;
  return body;
}

FinishReason ParseFinish(const std::string& s) {
  if (s == "length") return FinishReason::kLength;
  return FinishReason::kStop;  // "stop", "tool_calls", "content_filter", ...
}

std::string StringField(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

// message.tool_calls (whole calls) or delta.tool_calls (parts) as parts; a call
// without an "index" is the one at its position.
std::vector<ToolCallPart> ReadToolCalls(const nlohmann::json& holder) {
  std::vector<ToolCallPart> out;
  auto calls = holder.find("tool_calls");
  if (calls == holder.end() || !calls->is_array()) return out;
  for (size_t i = 0; i < calls->size(); ++i) {
    const auto& c = (*calls)[i];
    if (!c.is_object()) continue;
    ToolCallPart part;
    part.index = c.contains("index") && c["index"].is_number_integer() ? c["index"].get<int>() : static_cast<int>(i);
    part.id = StringField(c, "id");
    if (auto f = c.find("function"); f != c.end() && f->is_object()) {
      part.name = StringField(*f, "name");
      if (auto a = f->find("arguments"); a != f->end())
        part.arguments = a->is_string() ? a->get<std::string>() : a->is_null() ? "" : a->dump();
    }
    out.push_back(std::move(part));
  }
  return out;
}

void ReadUsage(const nlohmann::json& j, RequestMetrics* m) {
  auto u = j.find("usage");
  if (u == j.end() || !u->is_object()) return;
  m->prompt_tokens = u->value("prompt_tokens", m->prompt_tokens);
  m->completion_tokens = u->value("completion_tokens", m->completion_tokens);
}

void AskForOpenAiStream(nlohmann::json* body) {
  (*body)["stream"] = true;
  (*body)["stream_options"] = {{"include_usage", true}};
}

// The message as OpenAI's API takes it: an assistant turn's calls with their ids (its
// content null when it has only calls), a tool result with the id it answers.
nlohmann::json MessageJson(const ChatMessage& m) {
  nlohmann::json j = {{"role", m.role}, {"content", m.content}};
  if (!m.name.empty()) j["name"] = m.name;
  if (!m.tool_calls.empty()) {
    nlohmann::json calls = nlohmann::json::array();
    for (const ToolCall& c : m.tool_calls)
      calls.push_back(
          {{"id", c.id}, {"type", "function"}, {"function", {{"name", c.name}, {"arguments", c.arguments}}}});
    j["tool_calls"] = std::move(calls);
    if (m.content.empty()) j["content"] = nullptr;
  }
  if (!m.tool_call_id.empty()) j["tool_call_id"] = m.tool_call_id;
  if (!m.reasoning_content.empty()) j["reasoning_content"] = m.reasoning_content;
  return j;
}

// SessionOptions as the request's fields: n, and for chats tools, tool_choice,
// parallel_tool_calls and reasoning_effort. The upstream judges their values; only
// their JSON is checked here.
// REQUIRES: o.n checked (Start).
Status AddOptions(const SessionOptions& o, bool chat, nlohmann::json* body) {
  if (o.n != 1) (*body)["n"] = o.n;
  const std::pair<const char*, const std::string*> json_fields[] = {{"tools", &o.tools_json},
                                                                    {"tool_choice", &o.tool_choice_json}};
  for (const auto& [name, text] : json_fields) {
    if (text->empty()) continue;
    if (!chat) return InvalidArgument(std::string(name) + ": chat only (a completion has no tools)");
    auto v = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (v.is_discarded()) return InvalidArgument(std::string(name) + ": not valid JSON: " + text->substr(0, 80));
    if (std::string(name) == "tools" && !v.is_array()) return InvalidArgument("tools: expected a JSON array");
    (*body)[name] = std::move(v);
  }
  if (o.parallel_tool_calls) {
    if (!chat) return InvalidArgument("parallel_tool_calls: chat only");
    (*body)["parallel_tool_calls"] = *o.parallel_tool_calls;
  }
  if (!o.reasoning_effort.empty()) {
    if (!chat) return InvalidArgument("reasoning_effort: chat only");
    (*body)["reasoning_effort"] = o.reasoning_effort;
  }
  return Status::Ok();
}

class DelegatedSession final : public Session {
 public:
  // upstream_ctx: llama-server's context per slot (0: unknown).
  DelegatedSession(std::shared_ptr<const UpstreamClient> client, std::string model, RuntimeReport report,
                   int64_t upstream_ctx)
      : client_(std::move(client)), model_(std::move(model)), report_(std::move(report)), upstream_ctx_(upstream_ctx) {}
  // report().support_tier: kOpenAiDelegated, or kLlamaCpp (completions through
  // llama-server's /completion, chats through its OpenAI API).
  ~DelegatedSession() override { CancelAll(); }

  void CancelAll() override {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& w : streams_)
      if (auto s = w.lock()) s->Cancel();
  }

  const RuntimeReport& report() const override { return report_; }
  Engine* engine() override { return nullptr; }

 protected:
  Result<std::shared_ptr<SessionStream>> Start(const GenerateRequest& request, const std::vector<ChatMessage>* messages,
                                               bool streaming, const SessionOptions& extra) override {
    AX_RETURN_IF_ERROR(CheckDelegable(request, report_.support_tier));
    if (extra.n < 1 || extra.n > kMaxChoices)
      return InvalidArgument("n: expected 1 to " + std::to_string(kMaxChoices) + " choices, got " +
                             std::to_string(extra.n));
    std::vector<UpstreamCall> calls;
    if (report_.support_tier == SupportTier::kLlamaCpp) {
      // llama-server answers one choice per request: n requests, choice i seeded with
      // seed + i as our own n > 1 seeds its choices (server/common_fields.cpp), so choice
      // i equals a request of n 1 with seed + i.
      SessionOptions one = extra;
      one.n = 1;
      for (int i = 0; i < extra.n; ++i) {
        GenerateRequest r = request;
        r.sampling.seed = request.sampling.seed + static_cast<uint64_t>(i);
        if (messages) {
          AX_ASSIGN_OR_RETURN(UpstreamCall call, OpenAiCall(r, messages, streaming, one));
          calls.push_back(std::move(call));
        } else {
          AX_ASSIGN_OR_RETURN(UpstreamCall call, LlamaCompletionCall(r, one, streaming, upstream_ctx_));
          calls.push_back(std::move(call));
        }
      }
    } else {
      AX_ASSIGN_OR_RETURN(UpstreamCall call, OpenAiCall(request, messages, streaming, extra));
      calls.push_back(std::move(call));
    }
    return Track(std::make_shared<DelegatedStream>(client_, std::move(calls)));
  }

 private:
  // One request to /v1/completions or /v1/chat/completions for extra.n choices.
  Result<UpstreamCall> OpenAiCall(const GenerateRequest& request, const std::vector<ChatMessage>* messages,
                                  bool streaming, const SessionOptions& extra) const {
    nlohmann::json body = RequestBody(model_, request);
    AX_RETURN_IF_ERROR(AddOptions(extra, messages != nullptr, &body));
    std::string path;
    if (messages) {
      if (!request.prompt_tokens.empty() || request.prompt_text)
        return InvalidArgument("chat: the options carry a prompt (prompt_tokens / prompt_text); the messages are the prompt");
      if (messages->empty()) return InvalidArgument("messages: expected at least one message");
      nlohmann::json msgs = nlohmann::json::array();
      for (const ChatMessage& m : *messages) msgs.push_back(MessageJson(m));
      body["messages"] = std::move(msgs);
      path = "/v1/chat/completions";
    } else {
      if (request.prompt_text) body["prompt"] = *request.prompt_text;
      else if (!request.prompt_tokens.empty()) body["prompt"] = request.prompt_tokens;
      else return InvalidArgument("prompt: expected prompt_text or prompt_tokens");
      path = "/v1/completions";
    }
    UpstreamCall call;
    call.path = path;
    call.body = std::move(body);
    call.streaming = streaming;
    call.n = extra.n;
    call.ask_for_stream = AskForOpenAiStream;
    const bool chat = messages != nullptr;
    call.read = [chat](const nlohmann::json& j, std::vector<ChoicePart>* parts, RequestMetrics* usage) {
      return ReadOpenAiAnswer(j, chat, parts, usage);
    };
    return call;
  }

  // Keeps a weak reference for CancelAll.
  std::shared_ptr<SessionStream> Track(std::shared_ptr<DelegatedStream> stream) {
    std::lock_guard<std::mutex> lock(mu_);
    std::erase_if(streams_, [](const std::weak_ptr<DelegatedStream>& w) { return w.expired(); });
    streams_.push_back(stream);
    return stream;
  }

  const std::shared_ptr<const UpstreamClient> client_;
  const std::string model_;
  const RuntimeReport report_;
  const int64_t upstream_ctx_;
  std::mutex mu_;
  std::vector<std::weak_ptr<DelegatedStream>> streams_;
};

// What GET /v1/models says (also the check that the upstream answers): its first
// model id, and llama-server's context size per slot (data[0].meta.n_ctx; 0 unknown).
struct UpstreamModels {
  std::string first_id;
  int64_t n_ctx = 0;
};

Result<UpstreamModels> ListModels(const UpstreamClient& client) {
  AX_ASSIGN_OR_RETURN(nlohmann::json j, client.GetJson("/v1/models"));
  UpstreamModels out;
  auto data = j.find("data");
  if (data == j.end() || !data->is_array() || data->empty() || !(*data)[0].is_object()) return out;
  const auto& first = (*data)[0];
  out.first_id = StringField(first, "id");
  if (auto meta = first.find("meta"); meta != first.end() && meta->is_object())
    if (auto n = meta->find("n_ctx"); n != meta->end() && n->is_number_integer()) out.n_ctx = n->get<int64_t>();
  return out;
}

}  // namespace

Status ReadOpenAiAnswer(const nlohmann::json& j, bool chat, std::vector<ChoicePart>* parts, RequestMetrics* usage) {
  ReadUsage(j, usage);
  auto choices = j.find("choices");
  if (choices == j.end() || !choices->is_array()) {
    if (j.contains("usage")) return Status::Ok();  // the usage-only chunk of a stream
    return Unavailable("the answer has no choices: " + j.dump().substr(0, 200));
  }
  for (size_t i = 0; i < choices->size(); ++i) {
    const auto& c = (*choices)[i];
    if (!c.is_object()) continue;
    ChoicePart p;
    p.index = c.contains("index") && c["index"].is_number_integer() ? c["index"].get<int>() : static_cast<int>(i);
    const nlohmann::json* holder = &c;
    if (chat) {
      if (c.contains("delta") && c["delta"].is_object())
        holder = &c["delta"];
      else if (c.contains("message") && c["message"].is_object())
        holder = &c["message"];
    }
    p.text = StringField(*holder, chat ? "content" : "text");
    if (chat) {
      p.reasoning = StringField(*holder, "reasoning_content");
      if (p.reasoning.empty()) p.reasoning = StringField(*holder, "reasoning");
      p.calls = ReadToolCalls(*holder);
    }
    if (c.contains("finish_reason") && c["finish_reason"].is_string())
      p.finish = ParseFinish(c["finish_reason"].get<std::string>());
    parts->push_back(std::move(p));
  }
  return Status::Ok();
}

Result<std::unique_ptr<Session>> OpenDelegatedSession(const UpstreamConfig& config, RuntimeReport report,
                                                      SupportTier tier) {
  delegate::UpstreamOptions opts;
  AX_ASSIGN_OR_RETURN(opts.address, delegate::ParseUpstreamUrl(config.url, "upstream.url"));
  if (config.timeout_s < 1) return InvalidArgument("upstream.timeout_s: expected at least 1");
  if (config.connect_timeout_s < 1) return InvalidArgument("upstream.connect_timeout_s: expected at least 1");
  opts.api_key = config.api_key;
  opts.connect_timeout_s = config.connect_timeout_s;
  opts.timeout_s = config.timeout_s;
  auto client = std::make_shared<const UpstreamClient>(opts);
  AX_ASSIGN_OR_RETURN(UpstreamModels models, ListModels(*client));
  std::string model = config.model.empty() ? models.first_id : config.model;
  if (model.empty())
    return Unavailable("upstream " + client->Url("/v1/models") + ": lists no model; set upstream.model");
  const bool llama = tier == SupportTier::kLlamaCpp;
  report.selected_backend = SupportTierName(tier);
  report.support_tier = tier;
  report.upstream_url = opts.address.root_url();
  report.backend_detail = (llama ? "llama.cpp llama-server " : "OpenAI-compatible upstream ") + report.upstream_url;
  report.model_id = model;
  report.token_ids = llama;  // llama-server's /completion returns the ids
  report.throughput_is_ours = false;
  return std::unique_ptr<Session>(
      new DelegatedSession(std::move(client), std::move(model), std::move(report), models.n_ctx));
}

}  // namespace ax
