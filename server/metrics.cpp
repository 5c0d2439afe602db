#include "metrics.h"

#include <cstdio>

namespace ax::server {
namespace {

std::string Fmt(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.9g", v);
  return buf;
}

void Header(std::string* out, const std::string& name, const char* type, const std::string& help) {
  *out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

void Scalar(std::string* out, const std::string& name, const char* type, const std::string& help, double v) {
  Header(out, name, type, help);
  *out += name + " " + Fmt(v) + "\n";
}

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::Observe(double v) {
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  std::lock_guard<std::mutex> lock(mu_);
  ++counts_[i];
  sum_ += v;
  ++count_;
}

void Histogram::Render(std::string* out, const std::string& name, const std::string& help) const {
  std::lock_guard<std::mutex> lock(mu_);
  Header(out, name, "histogram", help);
  uint64_t cum = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cum += counts_[i];
    *out += name + "_bucket{le=\"" + Fmt(bounds_[i]) + "\"} " + std::to_string(cum) + "\n";
  }
  cum += counts_.back();
  *out += name + "_bucket{le=\"+Inf\"} " + std::to_string(cum) + "\n";
  *out += name + "_sum " + Fmt(sum_) + "\n";
  *out += name + "_count " + std::to_string(count_) + "\n";
}

ServerMetrics::ServerMetrics()
    : ttft_({0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}),
      itl_({0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}),
      duration_({0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300}) {}

void ServerMetrics::CountResponse(const std::string& route, int status) {
  std::lock_guard<std::mutex> lock(mu_);
  ++responses_[{route, status}];
}

void ServerMetrics::CountFinish(FinishReason reason) {
  std::lock_guard<std::mutex> lock(mu_);
  ++finishes_[FinishReasonName(reason)];
}

void ServerMetrics::CountRejected(const std::string& why) {
  std::lock_guard<std::mutex> lock(mu_);
  ++rejected_[why];
}

void ServerMetrics::RenderHttp(std::string* out_ptr) const {
  std::string& out = *out_ptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Header(&out, "ax_http_requests_total", "counter", "HTTP responses by route and status code.");
    for (const auto& [key, n] : responses_)
      out += "ax_http_requests_total{route=\"" + key.first + "\",code=\"" + std::to_string(key.second) + "\"} " +
             std::to_string(n) + "\n";
    Header(&out, "ax_requests_finished_total", "counter",
           "Generation requests (one per choice) by finish reason: stop, length, cancelled, error.");
    for (const char* r : {"stop", "length", "cancelled", "error"}) {
      auto it = finishes_.find(r);
      out += std::string("ax_requests_finished_total{reason=\"") + r + "\"} " +
             std::to_string(it == finishes_.end() ? 0 : it->second) + "\n";
    }
    Header(&out, "ax_requests_rejected_total", "counter", "Requests refused before reaching the engine, by cause.");
    for (const char* r : {"queue_full", "shutting_down"}) {
      auto it = rejected_.find(r);
      out += std::string("ax_requests_rejected_total{reason=\"") + r + "\"} " +
             std::to_string(it == rejected_.end() ? 0 : it->second) + "\n";
    }
  }
}

std::string ServerMetrics::Render(const EngineStats& s, const ServerGauges& g) const {
  std::string out;
  RenderHttp(&out);
  const auto d = [](int64_t v) { return static_cast<double>(v); };
  Scalar(&out, "ax_prompt_tokens_total", "counter", "Prompt tokens of admitted requests.", d(s.prompt_tokens));
  Scalar(&out, "ax_generation_tokens_total", "counter", "Generated tokens.", d(s.generated_tokens));
  Scalar(&out, "ax_prefix_cache_hit_tokens_total", "counter", "Prompt tokens whose KV was reused from the prefix cache.",
         d(s.prefix_hit_tokens));
  Scalar(&out, "ax_queue_depth", "gauge", "Requests waiting for a seat in the engine.", d(s.queued));
  Scalar(&out, "ax_requests_running", "gauge", "Requests running in the engine.", d(s.running));
  Scalar(&out, "ax_server_requests_in_flight", "gauge", "Engine requests admitted by the server and not finished.",
         d(g.in_flight));
  Scalar(&out, "ax_server_capacity", "gauge", "max-seqs + max-queue: beyond this, requests get 503.", d(g.capacity));
  Scalar(&out, "ax_server_draining", "gauge", "1 while the server shuts down.", g.draining ? 1 : 0);
  Scalar(&out, "ax_kv_blocks_total", "gauge", "KV cache blocks.", d(s.blocks_total));
  Scalar(&out, "ax_kv_blocks_used", "gauge", "KV blocks held by requests.", d(s.blocks_used));
  Scalar(&out, "ax_kv_blocks_free", "gauge", "KV blocks free (including cached ones).", d(s.blocks_free));
  Scalar(&out, "ax_kv_blocks_cached", "gauge", "Free KV blocks that still hold a reusable prefix.",
         d(s.blocks_cached));
  Scalar(&out, "ax_kv_blocks_used_peak", "gauge", "Most KV blocks in use at once.", d(s.blocks_used_peak));
  Scalar(&out, "ax_kv_block_size", "gauge", "Tokens per KV block.", d(s.block_size));
  Scalar(&out, "ax_kv_window_blocks_total", "gauge", "Of the KV blocks, the sliding-window layers' groups.",
         d(s.window_blocks_total));
  Scalar(&out, "ax_kv_window_blocks_used", "gauge", "Window-group KV blocks held by requests.",
         d(s.window_blocks_used));
  Scalar(&out, "ax_kv_window_blocks_used_peak", "gauge", "Most window-group KV blocks in use at once.",
         d(s.window_blocks_used_peak));
  Scalar(&out, "ax_engine_steps_total", "counter", "Engine forward steps.", d(s.steps));
  Scalar(&out, "ax_engine_tokens_computed_total", "counter", "Tokens through the forward passes.",
         d(s.tokens_computed));
  Scalar(&out, "ax_engine_steps_reading_logits_total", "counter",
         "Steps that read logit rows back to sample on the host (not ids or candidates).",
         d(s.steps_reading_logits));
  Scalar(&out, "ax_engine_preemptions_total", "counter", "Requests preempted for KV space.", d(s.preemptions));
  Scalar(&out, "ax_spec_draft_tokens_proposed_total", "counter", "N-gram draft tokens proposed.",
         d(s.draft_tokens_proposed));
  Scalar(&out, "ax_spec_draft_tokens_accepted_total", "counter", "N-gram draft tokens accepted by verification.",
         d(s.draft_tokens_accepted));
  Header(&out, "ax_engine_requests_total", "counter", "Engine requests by outcome.");
  out += "ax_engine_requests_total{outcome=\"finished\"} " + Fmt(d(s.requests_finished)) + "\n";
  out += "ax_engine_requests_total{outcome=\"cancelled\"} " + Fmt(d(s.requests_cancelled)) + "\n";
  out += "ax_engine_requests_total{outcome=\"failed\"} " + Fmt(d(s.requests_failed)) + "\n";
  ttft_.Render(&out, "ax_time_to_first_token_seconds", "Request arrival to its first token, per choice.");
  itl_.Render(&out, "ax_inter_token_latency_seconds", "Gaps between consecutive tokens of a choice.");
  duration_.Render(&out, "ax_request_duration_seconds", "Request arrival to its last token.");
  return out;
}

std::string RenderRuntimeInfo(const RuntimeReport& r) {
  // Label values are our own names and paths: escape what Prometheus requires.
  const auto esc = [](const std::string& v) {
    std::string o;
    for (char c : v) {
      if (c == '\\' || c == '"') o += '\\';
      if (c == '\n') o += "\\n";
      else o += c;
    }
    return o;
  };
  std::string out;
  Header(&out, "ax_runtime_info", "gauge",
         "The route serving this server (1): support tier, selected backend, resolution policy, model.");
  out += "ax_runtime_info{selected_backend=\"" + esc(r.selected_backend) + "\",support_tier=\"" +
         SupportTierName(r.support_tier) + "\",resolution_policy=\"" + ResolutionPolicyName(r.resolution_policy) +
         "\",model=\"" + esc(r.model_id) + "\",weights=\"" + esc(r.weight_format) + "\",token_ids=\"" +
         (r.token_ids ? "true" : "false") + "\"} 1\n";
  return out;
}

}  // namespace ax::server
