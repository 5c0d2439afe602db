// /metrics: Prometheus text exposition of the server's counters and histograms plus
// the engine's Stats(). Names and labels are listed in docs/server.md.
// Thread-safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "ax/engine.h"
#include "ax/session.h"

namespace ax::server {

class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void Observe(double v);
  // Appends "# HELP/# TYPE", the cumulative buckets, _sum and _count.
  void Render(std::string* out, const std::string& name, const std::string& help) const;

 private:
  const std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::vector<uint64_t> counts_;  // per bucket (not cumulative); last one is +Inf
  double sum_ = 0;
  uint64_t count_ = 0;
};

struct ServerGauges {
  int64_t in_flight = 0;   // admitted engine requests (choices) not yet finished
  int64_t capacity = 0;    // max-seqs + max-queue
  bool draining = false;
};

class ServerMetrics {
 public:
  ServerMetrics();
  // One HTTP response; `route` is the matched route or "other".
  void CountResponse(const std::string& route, int status);
  // One finished choice (engine request) as the server saw it.
  void CountFinish(FinishReason reason);
  void CountRejected(const std::string& why);  // "queue_full", "shutting_down", "disconnected"
  void ObserveTtft(double seconds) { ttft_.Observe(seconds); }
  void ObserveItl(double seconds) { itl_.Observe(seconds); }
  void ObserveRequest(double seconds) { duration_.Observe(seconds); }

  std::string Render(const EngineStats& stats, const ServerGauges& gauges) const;
  // The HTTP counters alone (a delegated server has no engine numbers to show).
  void RenderHttp(std::string* out) const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> responses_;
  std::map<std::string, uint64_t> finishes_;
  std::map<std::string, uint64_t> rejected_;
  Histogram ttft_, itl_, duration_;
};

// ax_runtime_info{selected_backend, support_tier, resolution_policy, model, weights,
// token_ids} 1: which route answers, on every /metrics page.
std::string RenderRuntimeInfo(const RuntimeReport& report);

}  // namespace ax::server
