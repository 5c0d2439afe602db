#include "report.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace ax::loadgen {
namespace {

double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const double rank = p / 100.0 * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(rank)), hi = static_cast<size_t>(std::ceil(rank));
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - static_cast<double>(lo));
}

}  // namespace

nlohmann::json Summary(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  double sum = 0;
  for (double x : v) sum += x;
  return {{"count", v.size()},
          {"mean", v.empty() ? 0.0 : sum / static_cast<double>(v.size())},
          {"p50", Percentile(v, 50)},
          {"p90", Percentile(v, 90)},
          {"p95", Percentile(v, 95)},
          {"p99", Percentile(v, 99)},
          {"max", v.empty() ? 0.0 : v.back()}};
}

nlohmann::json BuildReport(const std::vector<RequestResult>& results, double wall_s, const nlohmann::json& config) {
  std::vector<double> ttft, itl, latency, decode_tok_s, decode_ms_per_token;
  std::map<std::string, int64_t> status;
  nlohmann::json samples = nlohmann::json::array();
  int64_t out_tokens = 0, prompt_tokens = 0, errors = 0, ok = 0;
  for (const RequestResult& r : results) {
    ++status[std::to_string(r.status)];
    if (!r.ok) {
      ++errors;
      if (samples.size() < 5) samples.push_back(r.error.substr(0, 300));
      continue;
    }
    ++ok;
    out_tokens += r.output_tokens;
    prompt_tokens += r.prompt_tokens;
    latency.push_back((r.end_s - r.start_s) * 1e3);
    if (r.token_times_s.empty()) continue;
    ttft.push_back((r.token_times_s.front() - r.start_s) * 1e3);
    for (size_t i = 1; i < r.token_times_s.size(); ++i)
      itl.push_back((r.token_times_s[i] - r.token_times_s[i - 1]) * 1e3);
    const double span = r.token_times_s.back() - r.token_times_s.front();
    if (r.token_times_s.size() > 1 && span > 0) {
      const double n = static_cast<double>(r.token_times_s.size() - 1);
      decode_tok_s.push_back(n / span);
      decode_ms_per_token.push_back(span * 1e3 / n);
    }
  }
  return {{"tool", "ax-loadgen"},
          {"config", config},
          {"completed", ok},
          {"errors", errors},
          {"error_samples", samples},
          {"status_counts", status},
          {"wall_s", wall_s},
          {"output_tokens", out_tokens},
          {"prompt_tokens", prompt_tokens},
          {"aggregate_tok_s", wall_s > 0 ? static_cast<double>(out_tokens) / wall_s : 0.0},
          {"requests_per_s", wall_s > 0 ? static_cast<double>(ok) / wall_s : 0.0},
          {"ttft_ms", Summary(ttft)},
          {"itl_ms", Summary(itl)},
          {"latency_ms", Summary(latency)},
          {"decode_tok_s_per_request", Summary(decode_tok_s)},
          {"decode_ms_per_token_per_request", Summary(decode_ms_per_token)}};
}

}  // namespace ax::loadgen
