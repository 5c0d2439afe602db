// Scheduler: each step plans {sequence → tokens to compute} under a token budget and
// a max-sequences limit, then applies the plan's KV allocations. Deterministic: the
// same arrivals in the same order give the same plans.
//
// One rule for every phase (vLLM v1): a sequence's num_computed chases its
// tokens.size(). A new prompt is a long gap (chunked by the budget), a decode is a gap
// of one, a prefix hit starts num_computed past zero, drafts (later) widen the gap.
//
// Order of a step:
//   1. running sequences, in admission order: each gets min(gap, budget left) tokens
//      and the blocks to hold them. When the pool runs dry, the most recently
//      admitted running sequence is preempted (blocks freed, num_computed = 0, back to
//      the front of the waiting queue) until the older one fits.
//      A sequence carrying drafts is planned whole (last token + drafts, so that every
//      draft gets logits) or loses its drafts first when budget or blocks are short.
//   2. waiting sequences by (priority desc, arrival asc) while seats and budget last:
//      attach the cached prefix, then as many tokens as fit. A sequence that does not
//      fit stops admission (no overtaking, so order is kept).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <vector>

#include "ax/status.h"
#include "kv/kv_manager.h"

namespace ax {

struct SchedulerConfig {
  int64_t max_batch_tokens = 512;  // token budget per step
  int max_seqs = 16;               // running sequences at most
};

enum class SeqState { kWaiting, kRunning, kFinished };

struct Sequence {
  SeqId id = 0;
  int priority = 0;                // higher first among waiting sequences
  std::vector<int32_t> tokens;     // prompt + accepted output tokens
  int64_t num_prompt = 0;
  int64_t max_total_tokens = 0;    // prompt + max output: the most KV it can need
  int64_t num_computed = 0;        // tokens whose KV is in the cache
  int64_t num_draft = 0;           // trailing tokens that are unverified drafts
  int64_t prefix_hit_tokens = 0;   // reused at the last admission
  int64_t num_preemptions = 0;
  bool reuse_prefix = true;        // false: every token is computed (prompt logprobs need all rows)
  SeqState state = SeqState::kWaiting;
  uint64_t arrival = 0;            // set by Add
};

struct PlanItem {
  SeqId id;
  int64_t start;      // first token index to compute (== num_computed)
  int64_t num_tokens; // how many to compute this step
};

struct StepPlan {
  std::vector<PlanItem> items;     // running order
  std::vector<SeqId> preempted;    // this step, in preemption order
  std::vector<SeqId> admitted;     // this step, in admission order
  int64_t num_tokens() const;
};

class Scheduler {
 public:
  Scheduler(const SchedulerConfig& config, KvManager& kv);

  // Queues a sequence. ResourceExhausted when it could never fit: its
  // max_total_tokens need more blocks than a group's whole pool has.
  Status Add(Sequence seq);
  // ResourceExhausted when a sequence of max_total_tokens could never fit a group's
  // pool (a windowed group: the blocks its window and one step's chunk span).
  // Reads only the pools' fixed sizes: safe from any thread.
  Status CheckFits(int64_t max_total_tokens) const;
  // Plans the next step and applies its KV allocations.
  StepPlan Schedule();
  // After the forward of `plan`: num_computed advances and full blocks of accepted
  // tokens (drafts excluded) are committed for prefix reuse; windowed KV groups give
  // back the blocks behind their window of that accepted length.
  void Advance(const StepPlan& plan);
  // Appends k draft tokens to a caught-up running sequence (gap 0 → plans 1 + k).
  void AddDrafts(SeqId id, const int32_t* drafts, int k);
  // After verification: keeps the first `accepted` drafts, drops the rest (their KV
  // rolls back in O(1): only the length moves) and commits newly full blocks.
  void ResolveDrafts(SeqId id, int64_t accepted);
  // Removes a sequence in any state and frees its blocks (finish or cancel).
  void Remove(SeqId id);
  // Drops KV past new_len (draft rollback); num_computed is clamped to it.
  void Truncate(SeqId id, int64_t new_len);

  Sequence* Get(SeqId id);
  const std::vector<SeqId>& running() const { return running_; }
  const std::deque<SeqId>& waiting() const { return waiting_; }
  int64_t total_preemptions() const { return total_preemptions_; }
  const KvManager& kv() const { return kv_; }

 private:
  void Preempt(SeqId id, StepPlan* plan);
  // Queues by (priority desc, arrival asc).
  void InsertWaiting(SeqId id);

  SchedulerConfig config_;
  KvManager& kv_;
  std::map<SeqId, Sequence> seqs_;
  std::vector<SeqId> running_;  // admission order
  std::deque<SeqId> waiting_;
  uint64_t next_arrival_ = 0;
  int64_t total_preemptions_ = 0;
};

}  // namespace ax
