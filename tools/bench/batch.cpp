#include "batch.h"

#include <algorithm>
#include <cstdio>

#include "base_timer.h"
#include "request_json.h"

namespace ax::cli {

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const double idx = p / 100.0 * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(idx);
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (idx - static_cast<double>(lo));
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

nlohmann::json ResultJson(const GenerateResult& r, const RouteInfo& route) {
  return {
      {"output_tokens", r.output_tokens},
      {"text", r.text},
      {"finish_reason", FinishReasonName(r.finish_reason)},
      {"prompt_tokens", r.prompt_tokens.size()},
      {"prompt_ids", r.prompt_tokens},
      {"completion_tokens", r.output_tokens.size()},
      {"prefill_tok_s", r.prefill_tok_s()},
      {"decode_tok_s", r.decode_tok_s()},
      {"prefill_seconds", r.prefill_seconds},
      {"decode_seconds", r.decode_seconds},
      {"route", RouteJson(route)},
  };
}

void AddSpecJson(const RequestMetrics& m, nlohmann::json* j) {
  (*j)["policy"] = m.policy;
  (*j)["forwards"] = m.forwards;
  (*j)["tokens_per_forward"] = m.tokens_per_forward();
  (*j)["draft_tokens_proposed"] = m.draft_tokens_proposed;
  (*j)["draft_tokens_accepted"] = m.draft_tokens_accepted;
  (*j)["acceptance_rate"] = m.acceptance_rate();
  (*j)["gate_open"] = m.gate_open;
}

std::string Dump(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

Result<BatchOutcome> RunRequests(Engine& engine, const std::vector<GenerateRequest>& reqs, bool print_rows) {
  const EngineStats before = engine.Stats();
  const double t0 = NowSecondsForCli();
  std::vector<std::shared_ptr<RequestStream>> streams;
  for (size_t i = 0; i < reqs.size(); ++i) {
    auto s = engine.Submit(reqs[i]);
    if (!s.ok()) return s.status().WithPrefix("request " + std::to_string(i + 1));
    streams.push_back(*s);
  }
  AX_RETURN_IF_ERROR(engine.RunUntilIdle());
  const double wall = NowSecondsForCli() - t0;
  const RouteInfo route = engine.route();
  BatchOutcome out;
  std::vector<double> latencies, ttfts, itls;  // ms: per request, per request, per generated token
  int64_t generated = 0;
  for (size_t i = 0; i < streams.size(); ++i) {
    GenerateResult r;
    r.prompt_tokens = streams[i]->prompt_tokens();
    StreamEvent ev;
    while (streams[i]->Next(&ev, 0)) {
      if (ev.kind == StreamEvent::Kind::kToken) {
        r.output_tokens.push_back(ev.token.id);
        r.text += ev.token.text_delta;
      } else {
        r.finish_reason = ev.finish_reason;
        r.text += ev.text_tail;
      }
    }
    const RequestMetrics m = streams[i]->metrics();
    r.prefill_seconds = m.ttft_seconds;
    for (double d : m.itl_seconds) r.decode_seconds += d;
    nlohmann::json j = ResultJson(r, route);
    j["index"] = i;
    j["prefix_hit_tokens"] = m.prefix_hit_tokens;
    j["preemptions"] = m.preemptions;
    j["ttft_ms"] = m.ttft_seconds * 1e3;
    j["itl_ms_p50"] = Percentile(m.itl_seconds, 50) * 1e3;
    j["latency_ms"] = m.total_seconds * 1e3;
    AddSpecJson(m, &j);
    if (print_rows) std::printf("%s\n", Dump(j).c_str());
    out.rows.push_back(j);
    latencies.push_back(m.total_seconds * 1e3);
    ttfts.push_back(m.ttft_seconds * 1e3);
    for (double d : m.itl_seconds) itls.push_back(d * 1e3);
    generated += static_cast<int64_t>(r.output_tokens.size());
    out.tokens.push_back(r.output_tokens);
  }
  EngineStats stats = engine.Stats();
  stats.steps -= before.steps;
  stats.tokens_computed -= before.tokens_computed;
  stats.decode_step_seconds -= before.decode_step_seconds;
  stats.decode_step_tokens -= before.decode_step_tokens;
  stats.decode_steps -= before.decode_steps;
  stats.decode_steps_replayed -= before.decode_steps_replayed;
  stats.decode_forward_seconds -= before.decode_forward_seconds;
  stats.preemptions -= before.preemptions;
  stats.prefix_hit_tokens -= before.prefix_hit_tokens;
  stats.steps_reading_logits -= before.steps_reading_logits;
  stats.draft_tokens_proposed -= before.draft_tokens_proposed;
  stats.draft_tokens_accepted -= before.draft_tokens_accepted;
  const auto per_step = [&](double seconds) {
    return stats.decode_steps > 0 ? seconds * 1e3 / static_cast<double>(stats.decode_steps) : 0.0;
  };
  out.summary = {
      {"summary", true},
      {"requests", streams.size()},
      {"wall_seconds", wall},
      {"generated_tokens", generated},
      {"aggregate_decode_tok_s", wall > 0 ? static_cast<double>(generated) / wall : 0.0},
      {"decode_phase_tok_s", stats.decode_step_seconds > 0
                                 ? static_cast<double>(stats.decode_step_tokens) / stats.decode_step_seconds
                                 : 0.0},
      // A decode step's wall time, the forward's part of it (launches, device, read-back)
      // and the engine's host work around it.
      {"decode_steps", stats.decode_steps},
      {"decode_steps_replayed", stats.decode_steps_replayed},
      {"decode_step_ms", per_step(stats.decode_step_seconds)},
      {"decode_forward_ms", per_step(stats.decode_forward_seconds)},
      {"decode_host_ms", per_step(stats.decode_step_seconds - stats.decode_forward_seconds)},
      {"ttft_ms_p50", Percentile(ttfts, 50)},
      {"ttft_ms_p99", Percentile(ttfts, 99)},
      {"itl_ms_p50", Percentile(itls, 50)},
      {"itl_ms_p99", Percentile(itls, 99)},
      {"latency_ms_p50", Percentile(latencies, 50)},
      {"latency_ms_p95", Percentile(latencies, 95)},
      {"latency_ms_p99", Percentile(latencies, 99)},
      {"blocks_used_peak", stats.blocks_used_peak},
      {"blocks_total", stats.blocks_total},
      {"window_blocks_used_peak", stats.window_blocks_used_peak},
      {"window_blocks_total", stats.window_blocks_total},
      {"block_size", stats.block_size},
      {"preemptions", stats.preemptions},
      {"prefix_hit_tokens", stats.prefix_hit_tokens},
      {"steps", stats.steps},
      {"tokens_per_step", stats.tokens_per_step()},
      {"steps_reading_logits", stats.steps_reading_logits},
      {"draft_tokens_proposed", stats.draft_tokens_proposed},
      {"draft_tokens_accepted", stats.draft_tokens_accepted},
      {"route", RouteJson(route)},
  };
  return out;
}

}  // namespace ax::cli
