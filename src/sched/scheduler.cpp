#include "sched/scheduler.h"

#include <algorithm>
#include <string>

#include "base/check.h"

namespace ax {

int64_t StepPlan::num_tokens() const {
  int64_t n = 0;
  for (const PlanItem& it : items) n += it.num_tokens;
  return n;
}

Scheduler::Scheduler(const SchedulerConfig& config, KvManager& kv) : config_(config), kv_(kv) {
  AX_CHECK(config.max_batch_tokens > 0 && config.max_seqs > 0);
}

Status Scheduler::Add(Sequence seq) {
  if (seqs_.count(seq.id)) return InvalidArgument("request id " + std::to_string(seq.id) + " is already queued");
  AX_RETURN_IF_ERROR(CheckFits(seq.max_total_tokens));
  seq.state = SeqState::kWaiting;
  seq.arrival = next_arrival_++;
  seq.num_computed = 0;
  const SeqId id = seq.id;
  seqs_.emplace(id, std::move(seq));
  InsertWaiting(id);
  return Status::Ok();
}

void Scheduler::InsertWaiting(SeqId id) {
  // Sorted by (priority desc, arrival asc): a preempted sequence keeps its arrival,
  // so it returns ahead of everything that arrived after it.
  const Sequence& s = seqs_.at(id);
  auto before = [&](SeqId other) {
    const Sequence& o = seqs_.at(other);
    if (s.priority != o.priority) return s.priority > o.priority;
    return s.arrival < o.arrival;
  };
  auto it = std::find_if(waiting_.begin(), waiting_.end(), before);
  waiting_.insert(it, id);
}

void Scheduler::Preempt(SeqId id, StepPlan* plan) {
  Sequence& s = seqs_.at(id);
  s.tokens.resize(s.tokens.size() - static_cast<size_t>(s.num_draft));
  s.num_draft = 0;
  kv_.Free(id);
  s.num_computed = 0;
  s.state = SeqState::kWaiting;
  ++s.num_preemptions;
  ++total_preemptions_;
  running_.erase(std::find(running_.begin(), running_.end(), id));
  InsertWaiting(id);
  plan->preempted.push_back(id);
}

Status Scheduler::CheckFits(int64_t max_total_tokens) const {
  for (int g = 0; g < kv_.num_groups(); ++g) {
    const int64_t blocks = kv_.PeakBlocks(g, max_total_tokens, config_.max_batch_tokens);
    if (blocks <= kv_.pool(g).num_blocks()) continue;
    const std::string group = kv_.num_groups() == 1 ? std::string()
                              : kv_.window(g) == 0 ? " in its full-attention layers"
                                                   : " in its layers of window " + std::to_string(kv_.window(g));
    return ResourceExhausted("prompt + max_tokens need " + std::to_string(max_total_tokens) + " tokens of KV cache (" +
                             std::to_string(blocks) + " blocks" + group + ") but it holds " +
                             std::to_string(kv_.pool(g).num_blocks()) + " blocks of " +
                             std::to_string(kv_.block_size()) + " tokens");
  }
  return Status::Ok();
}

StepPlan Scheduler::Schedule() {
  StepPlan plan;
  int64_t budget = config_.max_batch_tokens;

  // 1. Running sequences, oldest admission first.
  for (size_t i = 0; i < running_.size() && budget > 0;) {
    const SeqId id = running_[i];
    Sequence& s = seqs_.at(id);
    if (s.num_draft > 0) {
      const int64_t gap = static_cast<int64_t>(s.tokens.size()) - s.num_computed;
      if (gap > budget || !kv_.CanGrow(id, s.num_computed + gap)) {
        s.tokens.resize(s.tokens.size() - static_cast<size_t>(s.num_draft));  // drafts are optional
        s.num_draft = 0;
      }
    }
    const int64_t gap = static_cast<int64_t>(s.tokens.size()) - s.num_computed;
    const int64_t n = std::min(gap, budget);
    if (n <= 0) {
      ++i;
      continue;
    }
    bool preempted_self = false;
    while (!kv_.Grow(id, s.num_computed + n)) {
      const SeqId victim = running_.back();  // most recently admitted
      Preempt(victim, &plan);
      if (victim == id) {
        preempted_self = true;
        break;
      }
    }
    if (preempted_self) break;  // everything after it was newer and is gone too
    plan.items.push_back({id, s.num_computed, n});
    budget -= n;
    ++i;
  }

  // 2. Waiting sequences, in queue order, while seats and budget last. Nothing is
  // admitted in a step that had to preempt: memory is already short.
  while (!waiting_.empty() && budget > 0 && plan.preempted.empty() &&
         static_cast<int>(running_.size()) < config_.max_seqs) {
    const SeqId id = waiting_.front();
    Sequence& s = seqs_.at(id);
    const int64_t cached = kv_.Attach(id, s.reuse_prefix ? s.tokens : std::vector<int32_t>{});
    const int64_t n = std::min(static_cast<int64_t>(s.tokens.size()) - cached, budget);
    if (!kv_.Grow(id, cached + n)) {
      kv_.Free(id);
      break;
    }
    waiting_.pop_front();
    s.num_computed = cached;
    s.prefix_hit_tokens = cached;
    s.state = SeqState::kRunning;
    running_.push_back(id);
    plan.admitted.push_back(id);
    plan.items.push_back({id, cached, n});
    budget -= n;
  }
  return plan;
}

void Scheduler::Advance(const StepPlan& plan) {
  for (const PlanItem& it : plan.items) {
    auto found = seqs_.find(it.id);
    if (found == seqs_.end()) continue;  // removed (cancelled) since the plan
    Sequence& s = found->second;
    AX_CHECK(s.num_computed == it.start);
    s.num_computed += it.num_tokens;
    kv_.Commit(it.id, s.tokens, std::min(s.num_computed, static_cast<int64_t>(s.tokens.size()) - s.num_draft));
  }
}

void Scheduler::AddDrafts(SeqId id, const int32_t* drafts, int k) {
  Sequence& s = seqs_.at(id);
  AX_CHECK(s.state == SeqState::kRunning && s.num_draft == 0);
  s.tokens.insert(s.tokens.end(), drafts, drafts + k);
  s.num_draft = k;
}

void Scheduler::ResolveDrafts(SeqId id, int64_t accepted) {
  Sequence& s = seqs_.at(id);
  AX_CHECK(accepted >= 0 && accepted <= s.num_draft);
  const int64_t keep = static_cast<int64_t>(s.tokens.size()) - s.num_draft + accepted;
  s.tokens.resize(static_cast<size_t>(keep));
  s.num_draft = 0;
  if (kv_.Has(id)) kv_.Truncate(id, keep);
  s.num_computed = std::min(s.num_computed, keep);
  kv_.Commit(id, s.tokens, s.num_computed);
}

void Scheduler::Remove(SeqId id) {
  auto it = seqs_.find(id);
  if (it == seqs_.end()) return;
  kv_.Free(id);
  running_.erase(std::remove(running_.begin(), running_.end(), id), running_.end());
  waiting_.erase(std::remove(waiting_.begin(), waiting_.end(), id), waiting_.end());
  seqs_.erase(it);
}

void Scheduler::Truncate(SeqId id, int64_t new_len) {
  Sequence& s = seqs_.at(id);
  if (kv_.Has(id)) kv_.Truncate(id, new_len);
  s.num_computed = std::min(s.num_computed, new_len);
}

Sequence* Scheduler::Get(SeqId id) {
  auto it = seqs_.find(id);
  return it == seqs_.end() ? nullptr : &it->second;
}

}  // namespace ax
