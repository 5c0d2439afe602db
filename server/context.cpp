#include "context.h"

#include <httplib.h>

#include <cstdio>
#include <ctime>

namespace ax::server {

ServerContext::ServerContext(const ServerOptions& o, Engine& e, RuntimeReport r)
    : opts(o),
      engine(e),
      report(std::move(r)),
      model_name(o.served_model_name.empty() ? e.model_name() : o.served_model_name),
      started_at(static_cast<int64_t>(std::time(nullptr))),
      admission(o.engine.max_seqs + o.max_queue) {
  limits.ctx_size = e.ctx_size();
  limits.max_n = o.max_n;
  limits.sampling_defaults = e.sampling_defaults().sampling;
  limits.split_reasoning = o.reasoning_parser == "think" || o.reasoning_parser == "gemma4";
  const bool gemma4_template = e.chat_template_source().find("<|channel>") != std::string::npos;
  if (o.reasoning_parser == "gemma4" || (o.reasoning_parser == "auto" && gemma4_template)) {
    limits.split_reasoning = true;
    limits.reasoning_format = ReasoningFormat::kGemma4;
  } else if (o.reasoning_parser == "auto") {  // a model that thinks has the tags as single tokens
    auto close = e.Tokenize("</think>", /*add_special_tokens=*/false);
    limits.split_reasoning = close.ok() && close->size() == 1;
  }
  if (o.tool_call_parser == "auto") limits.tool_format = DetectToolCallFormat(e.chat_template_source());
  else ParseToolCallFormat(o.tool_call_parser, &limits.tool_format);  // checked by ParseServerArgs
}

std::string ServerContext::NewId(const char* prefix) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%s%08llx%08llx", prefix, static_cast<unsigned long long>(started_at & 0xffffffff),
                static_cast<unsigned long long>(next_id.fetch_add(1)));
  return buf;
}

namespace {

// Compares without an early exit, so the time taken says nothing about the key.
bool SameSecret(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i % (b.empty() ? 1 : b.size())]);
  return diff == 0 && !b.empty();
}

}  // namespace

bool KeyAccepted(const httplib::Request& req, const std::string& api_key) {
  if (api_key.empty()) return true;
  const std::string auth = req.get_header_value("Authorization");
  const std::string kBearer = "Bearer ";
  if (auth.rfind(kBearer, 0) == 0 && SameSecret(auth.substr(kBearer.size()), api_key)) return true;
  return SameSecret(req.get_header_value("x-api-key"), api_key);
}

bool ServerContext::Authorized(const httplib::Request& req) const { return KeyAccepted(req, opts.api_key); }

nlohmann::json RuntimeReportJson(const RuntimeReport& r) {
  return {{"selected_backend", r.selected_backend},
          {"support_tier", SupportTierName(r.support_tier)},
          {"resolution_policy", ResolutionPolicyName(r.resolution_policy)},
          {"resolution_reason", r.resolution_reason},
          {"backend_detail", r.backend_detail},
          {"token_ids", r.token_ids},
          {"throughput_is_ours", r.throughput_is_ours},
          // The model's identity, as include/ax/session.h's RuntimeReport names it
          // (delegated routes: the upstream's model id; the rest "").
          {"model_id", r.model_id},
          {"model_dir", r.model_dir},
          {"architecture", r.architecture},
          {"family", r.family},
          {"weight_format", r.weight_format},
          {"upstream_url", r.upstream_url.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.upstream_url)}};
}

ServerGauges ServerContext::Gauges() const {
  ServerGauges g;
  g.in_flight = admission.in_flight();
  g.capacity = admission.capacity();
  g.draining = draining.load();
  return g;
}

std::string RouteLabel(const std::string& path) {
  for (const char* r : {"/v1/models", "/v1/completions", "/v1/chat/completions", "/v1/generate", "/v1/messages",
                        "/v1/messages/count_tokens", "/v1/responses", "/tokenize",
                        "/detokenize", "/health", "/metrics", "/v1/runtime"})
    if (path == r) return r;
  if (path.rfind("/v1/models/", 0) == 0) return "/v1/models/{model}";
  if (path == "/") return "/";
  return "other";
}

}  // namespace ax::server
