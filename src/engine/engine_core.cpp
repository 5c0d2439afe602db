#include "engine/engine_core.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <string>

#include "base/check.h"
#include "base/timer.h"
#include "engine/active_request.h"

namespace ax {

EngineCore::EngineCore(Model& model, const Tokenizer* tok, const EngineCoreConfig& cfg)
    : model_(model),
      tokenizer_(tok),
      config_(cfg),
      kv_groups_(PlanKvGroups(model.KvGroupWindows(cfg.release_window_blocks), cfg.num_blocks,
                              KvPlanParams{cfg.block_size, cfg.max_seqs, cfg.max_batch_tokens})),
      kv_(kv_groups_, cfg.block_size, cfg.prefix_caching),
      sched_(SchedulerConfig{cfg.max_batch_tokens, cfg.max_seqs}, kv_) {
  // A recurrent layer's state cannot be rebuilt from cached blocks (no prefix hits) nor
  // rolled back by moving a length: a verified draft chunk keeps the state after each
  // row, and a rejection restores the accepted row's (model/memory.h).
  recurrent_ = model.recurrent();
  if (recurrent_)
    for (int32_t s = cfg.max_seqs - 1; s >= 0; --s) free_state_slots_.push_back(s);
}

EngineCore::~EngineCore() = default;

Result<std::unique_ptr<EngineCore>> EngineCore::Create(Model& model, const Tokenizer* tok,
                                                       const EngineCoreConfig& cfg) {
  if (cfg.ctx_size <= 1) return InvalidArgument("ctx_size must be at least 2");
  if (cfg.block_size <= 0 || cfg.num_blocks <= 0) return InvalidArgument("KV cache needs positive blocks");
  if (cfg.max_seqs <= 0) return InvalidArgument("max_seqs must be positive");
  if (cfg.max_draft < 0 || cfg.max_draft > 16) return InvalidArgument("max_draft must be in [0, 16]");
  if (cfg.max_batch_tokens <= 0 || cfg.max_batch_tokens > model.max_batch_tokens())
    return InvalidArgument("max_batch_tokens must be in [1, " + std::to_string(model.max_batch_tokens()) + "]");
  // The KV cache before the host bookkeeping of its blocks: a cache too large for memory
  // fails here with its size, where a block pool of 2^30 blocks threw std::bad_alloc.
  std::vector<KvGroup> groups;
  for (const KvGroupSpec& g : PlanKvGroups(model.KvGroupWindows(cfg.release_window_blocks), cfg.num_blocks,
                                           KvPlanParams{cfg.block_size, cfg.max_seqs, cfg.max_batch_tokens}))
    groups.push_back({g.window, g.num_blocks});
  // A drafted chunk is [last token, d1..dk]: the states after its first k rows are kept
  // (after the last, all drafts accepted, the live state is the one).
  AX_ASSIGN_OR_RETURN(KvCache cache, model.AllocateKvCache(groups, cfg.block_size, cfg.max_seqs, cfg.max_draft));
  std::unique_ptr<EngineCore> core(new EngineCore(model, tok, cfg));
  core->cache_ = std::move(cache);
  // Logit rows per step: every running request's last token plus its drafts.
  const size_t max_rows = static_cast<size_t>(cfg.max_seqs) * static_cast<size_t>(1 + std::max(0, cfg.max_draft));
  core->logits_.resize(max_rows * static_cast<size_t>(model.config().vocab_size));
  core->argmax_.resize(max_rows);
  core->top_ids_.resize(max_rows * Backend::kMaxTopRows);
  core->top_logits_.resize(max_rows * Backend::kMaxTopRows);
  core->inv_temperature_.resize(max_rows);
  core->top_mass_.resize(max_rows);
  core->mass_tokens_.resize(max_rows);
  core->draft_proposals_.reserve(static_cast<size_t>(cfg.max_seqs));
  core->draft_decoding_.reserve(static_cast<size_t>(cfg.max_seqs));
  core->draft_candidates_.reserve(static_cast<size_t>(cfg.max_seqs));
  core->draft_lengths_.reserve(static_cast<size_t>(cfg.max_seqs));
  core->counters_.blocks_total = core->kv_.num_blocks();
  for (int g = 0; g < core->kv_.num_groups(); ++g)
    if (core->kv_.window(g) > 0) core->counters_.window_blocks_total += core->kv_.pool(g).num_blocks();
  core->counters_.block_size = cfg.block_size;
  core->PublishStats();
  return core;
}

Result<std::shared_ptr<StreamImpl>> EngineCore::Submit(CoreRequest r) {
  const int64_t vocab = model_.config().vocab_size;
  if (r.prompt.empty()) return InvalidArgument("prompt: expected at least one token");
  for (size_t i = 0; i < r.prompt.size(); ++i)
    if (r.prompt[i] < 0 || r.prompt[i] >= vocab)
      return InvalidArgument("prompt token " + std::to_string(i) + " = " + std::to_string(r.prompt[i]) +
                             " is outside the vocabulary [0, " + std::to_string(vocab) + ")");
  const int64_t n = static_cast<int64_t>(r.prompt.size());
  if (n >= config_.ctx_size)
    return InvalidArgument("prompt of " + std::to_string(n) + " tokens does not fit the context of " +
                           std::to_string(config_.ctx_size) + " tokens (at least one must be generated)");
  if (r.prompt_logprobs > kMaxPromptLogprobs)
    return InvalidArgument("prompt_logprobs must be at most " + std::to_string(kMaxPromptLogprobs) + ", got " +
                           std::to_string(r.prompt_logprobs));
  if (r.max_tokens < 0 || (r.max_tokens == 0 && r.prompt_logprobs < 0))
    return InvalidArgument("max_tokens must be positive (0 only with prompt_logprobs), got " +
                           std::to_string(r.max_tokens));
  AX_RETURN_IF_ERROR(r.sampling.Validate());
  const int64_t max_total = std::min(n + r.max_tokens, config_.ctx_size);
  AX_RETURN_IF_ERROR(sched_.CheckFits(max_total));  // refused here, on the caller's thread

  auto a = std::make_unique<Active>(std::move(r), tokenizer_, config_);
  a->max_total = max_total;
  a->t_submit = NowSeconds();
  std::shared_ptr<StreamImpl> stream;
  {
    std::lock_guard<std::mutex> lock(inbox_mu_);
    a->id = next_id_++;
    stream = std::make_shared<StreamImpl>(a->id, a->req.prompt);
    a->stream = stream;
    inbox_.push_back(std::move(a));
  }
  inbox_cv_.notify_all();
  return stream;
}

bool EngineCore::HasWork() const {
  {
    std::lock_guard<std::mutex> lock(inbox_mu_);
    if (!inbox_.empty()) return true;
  }
  return !active_.empty();
}

void EngineCore::WaitForWork(int timeout_ms) {
  std::unique_lock<std::mutex> lock(inbox_mu_);
  inbox_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return !inbox_.empty(); });
}

void EngineCore::Admit(std::unique_ptr<Active> a) {
  Sequence seq;
  seq.id = a->id;
  seq.priority = a->req.priority;
  seq.tokens = a->req.prompt;
  seq.num_prompt = static_cast<int64_t>(a->req.prompt.size());
  seq.reuse_prefix = a->req.prompt_logprobs < 0 && !recurrent_;  // a recurrent model: always a miss
  seq.max_total_tokens = a->max_total;
  a->metrics.prompt_tokens = seq.num_prompt;
  counters_.prompt_tokens += seq.num_prompt;
  Status st = sched_.Add(std::move(seq));
  const SeqId id = a->id;
  active_.emplace(id, std::move(a));
  if (!st.ok()) FinishRequest(id, FinishReason::kError, st.message());
}

void EngineCore::HandleCancellations() {
  std::vector<SeqId> cancelled;
  for (const auto& [id, a] : active_)
    if (a->stream->cancel_requested()) cancelled.push_back(id);
  for (SeqId id : cancelled) FinishRequest(id, FinishReason::kCancelled, "");
}

void EngineCore::FinishRequest(SeqId id, FinishReason reason, const std::string& error) {
  auto it = active_.find(id);
  AX_CHECK(it != active_.end());
  Active& a = *it->second;
  if (Sequence* s = sched_.Get(id)) a.metrics.preemptions = s->num_preemptions;
  sched_.Remove(id);
  ReleaseStateSlot(id);
  StreamEvent ev;
  ev.kind = StreamEvent::Kind::kFinish;
  ev.finish_reason = reason;
  ev.error = error;
  TakePromptLogprobs(a, &ev);
  if (reason != FinishReason::kCancelled && reason != FinishReason::kError) {
    if (a.detok) ev.text_tail = a.stop.Push(a.detok->Flush());
    if (!a.stop.stopped()) ev.text_tail += a.stop.Flush();
    ev.stop_string = a.stop.matched();
  }
  a.metrics.completion_tokens = a.generated;
  a.metrics.acceptance_ema = a.accept_ema;
  a.metrics.gate_open = a.policy == DecodePolicy::kNgram && a.gate_open;
  a.metrics.total_seconds = NowSeconds() - a.t_submit;
  switch (reason) {
    case FinishReason::kStop:
    case FinishReason::kLength: ++counters_.requests_finished; break;
    case FinishReason::kCancelled: ++counters_.requests_cancelled; break;
    case FinishReason::kError: ++counters_.requests_failed; break;
  }
  a.stream->Finish(std::move(ev), a.metrics);
  active_.erase(it);
}

bool EngineCore::EmitToken(Active& a, const VerifiedToken& t, bool append_to_sequence) {
  // The grammar advances first: the mask let only tokens through that it accepts, and it
  // ends the request once the match is complete and nothing may follow.
  // A stop id (EOS, end of turn) ends a complete match.
  bool grammar_done = false;
  if (a.matcher) {
    const bool is_stop = std::find(a.req.stop_ids.begin(), a.req.stop_ids.end(), t.id) != a.req.stop_ids.end();
    if (is_stop && a.matcher->IsComplete()) {
      grammar_done = true;
    } else if (!a.matcher->Accept(t.id)) {
      FinishRequest(a.id, FinishReason::kError,
                    "constrained decoding: token " + std::to_string(t.id) + " does not continue the grammar");
      return true;
    } else {
      grammar_done = a.matcher->IsTerminated();
    }
  }
  a.sampler.Accept(t.id);
  if (a.policy == DecodePolicy::kNgram) a.drafter.Push(t.id);
  ++a.generated;
  ++counters_.generated_tokens;
  Sequence* seq = sched_.Get(a.id);
  if (append_to_sequence) seq->tokens.push_back(t.id);

  const double now = NowSeconds();
  if (a.generated == 1) a.metrics.ttft_seconds = now - a.t_submit;
  else a.metrics.itl_seconds.push_back(now - a.t_last_token);
  a.t_last_token = now;

  StreamEvent ev;
  ev.kind = StreamEvent::Kind::kToken;
  ev.token.id = t.id;
  ev.token.logprob = t.logprob;
  ev.token.top_logprobs = t.top;
  TakePromptLogprobs(a, &ev);
  const bool stop_token = !a.req.ignore_eos &&
                          std::find(a.req.stop_ids.begin(), a.req.stop_ids.end(), t.id) != a.req.stop_ids.end();
  // A stop token's text (EOS, stop_token_ids) is never part of the output, as in vLLM.
  if (a.detok && !stop_token) ev.token.text_delta = a.stop.Push(a.detok->Push(t.id));
  a.stream->Push(std::move(ev));

  if (stop_token || a.stop.stopped() || grammar_done) {
    FinishRequest(a.id, FinishReason::kStop, "");
    return true;
  }
  // Length: max_tokens, or the context is full.
  if (a.generated >= a.req.max_tokens || a.metrics.prompt_tokens + a.generated >= a.max_total) {
    FinishRequest(a.id, FinishReason::kLength, "");
    return true;
  }
  return false;
}

int32_t EngineCore::StateSlot(SeqId id) {
  auto it = state_slots_.find(id);
  if (it != state_slots_.end()) return it->second;
  // At most max_seqs sequences run, and every finished or preempted one gave its slot back.
  AX_CHECK(!free_state_slots_.empty());
  const int32_t slot = free_state_slots_.back();
  free_state_slots_.pop_back();
  state_slots_.emplace(id, slot);
  return slot;
}

void EngineCore::ReleaseStateSlot(SeqId id) {
  auto it = state_slots_.find(id);
  if (it == state_slots_.end()) return;
  free_state_slots_.push_back(it->second);
  // The lowest free id on top: a slot's id does not depend on the order sequences finished in.
  std::sort(free_state_slots_.begin(), free_state_slots_.end(), std::greater<>());
  state_slots_.erase(it);
}

Status EngineCore::Step() {
  const double t_step = NowSeconds();
  {
    std::vector<std::unique_ptr<Active>> incoming;
    {
      std::lock_guard<std::mutex> lock(inbox_mu_);
      incoming.swap(inbox_);
    }
    for (auto& a : incoming) Admit(std::move(a));
  }
  HandleCancellations();
  ProposeDrafts();

  const StepPlan plan = sched_.Schedule();
  if (plan.items.empty()) {
    PublishStats();
    return Status::Ok();
  }
  for (SeqId id : plan.preempted) ReleaseStateSlot(id);  // recomputed from position 0 later
  counters_.blocks_used_peak = std::max<int64_t>(counters_.blocks_used_peak, kv_.num_used());
  counters_.window_blocks_used_peak = std::max(counters_.window_blocks_used_peak, WindowBlocksUsed());
  for (SeqId id : plan.admitted) {
    Active& a = *active_.at(id);
    if (a.admitted) continue;  // re-admission after preemption: not a new prefix hit
    a.admitted = true;
    if (a.policy == DecodePolicy::kNgram && accept_prior_ >= 0) {
      a.accept_ema = accept_prior_;
      a.gate_open = a.accept_ema >= config_.gate_threshold;
    }
    a.metrics.queue_seconds = NowSeconds() - a.t_submit;
    a.metrics.prefix_hit_tokens = sched_.Get(id)->prefix_hit_tokens;
    counters_.prefix_hit_tokens += a.metrics.prefix_hit_tokens;
  }

  // One forward over every planned chunk; logits for the sequences that catch up.
  // Prompt rows first, then generated rows (decodes, drafts, recomputed output after a
  // preemption): the backend gives each class its own batch-invariant matmul kernel,
  // so a request's numbers do not depend on what it was batched with.
  // A request asking for prompt logprobs has logits for every prompt row it computes.
  ForwardBatch batch;
  std::vector<Sampling> sampling;  // in logit-row order
  std::vector<PromptRows> prompt_rows;
  int64_t logit_row = 0;
  for (int pass = 0; pass < 2; ++pass) {
    const bool prompt_pass = pass == 0;
    for (const PlanItem& it : plan.items) {
      const Sequence* s = sched_.Get(it.id);
      const int64_t end = it.start + it.num_tokens;
      const int64_t begin = prompt_pass ? it.start : std::max(it.start, s->num_prompt);
      const int64_t stop = prompt_pass ? std::min(end, s->num_prompt) : end;
      if (begin >= stop) continue;
      const bool catches_up = stop == static_cast<int64_t>(s->tokens.size());
      auto found = active_.find(it.id);
      Active* active = found != active_.end() ? found->second.get() : nullptr;
      const bool prompt_lp = prompt_pass && active != nullptr && active->req.prompt_logprobs >= 0;
      // A sequence with drafts is planned whole: [last token, d1..dk], logits for every row.
      AX_CHECK(s->num_draft == 0 || (!prompt_pass && catches_up && stop - begin == s->num_draft + 1));
      const bool all_rows = s->num_draft > 0 || prompt_lp;
      batch.AddSequence(s->tokens.data() + begin, stop - begin, static_cast<int32_t>(begin), kv_.tables(it.id),
                        kv_.block_size(), catches_up, all_rows, prompt_pass);
      if (recurrent_) {
        batch.state_slots.back() = StateSlot(it.id);
        batch.keep_states.back() = s->num_draft > 0;  // VerifyAndEmit may roll the state back
      }
      const int64_t rows_here = all_rows ? stop - begin : catches_up ? 1 : 0;
      if (prompt_lp) prompt_rows.push_back({active, begin, stop - begin, logit_row});
      if (catches_up) sampling.push_back({it.id, s->num_draft, active, logit_row + rows_here - 1 - s->num_draft});
      logit_row += rows_here;
    }
  }
  batch.record = !(step_drafted_ && step_trial_);
  const int64_t generated_before = counters_.generated_tokens;
  StepRows rows;
  const double t_forward = NowSeconds();
  Status st = ForwardStep(batch, sampling, /*all_logits=*/!prompt_rows.empty(), &rows);
  const double forward_seconds = NowSeconds() - t_forward;
  ++counters_.steps;
  counters_.tokens_computed += batch.n_tokens();
  if (!st.ok()) {
    for (const PlanItem& it : plan.items) FinishRequest(it.id, FinishReason::kError, st.message());
    PublishStats();
    return st;
  }
  sched_.Advance(plan);
  for (const PromptRows& p : prompt_rows) RecordPromptLogprobs(p, rows.logits);
  for (const Sampling& smp : sampling) {
    if (smp.active == nullptr) continue;
    if (smp.active->req.max_tokens == 0) {  // prompt logprobs only: done once the prompt is
      FinishRequest(smp.id, FinishReason::kLength, "");
      continue;
    }
    VerifyAndEmit(*smp.active, rows, smp.row, smp.drafts);
  }
  // The cost model sees whole decode steps (drafting, planning, forward, verification:
  // the host work of a row is part of what a draft costs); steps with prompt rows run
  // the throughput kernel and are not what a draft length is chosen against.
  const double t_end = NowSeconds();
  if (batch.n_prefill_rows == 0) {
    const int64_t made = counters_.generated_tokens - generated_before;
    cost_.Observe(batch.n_tokens(), t_end - t_step);
    counters_.decode_step_seconds += t_end - t_step;  // drafting and planning included
    counters_.decode_step_tokens += made;
    counters_.decode_forward_seconds += forward_seconds;
    ++counters_.decode_steps;
    if (model_.backend().Replayed()) ++counters_.decode_steps_replayed;
    if (step_decode_rows_ > 0)
      guard_.Observe(step_decode_rows_, step_drafted_, model_.backend().Replayed(), made, t_end - t_step);
  }
  PublishStats();
  return Status::Ok();
}

void EngineCore::PublishStats() {
  EngineStats s = counters_;
  s.running = static_cast<int64_t>(sched_.running().size());
  s.queued = static_cast<int64_t>(sched_.waiting().size());
  {
    std::lock_guard<std::mutex> lock(inbox_mu_);
    s.queued += static_cast<int64_t>(inbox_.size());
  }
  s.preemptions = sched_.total_preemptions();
  s.blocks_used = kv_.num_used();
  counters_.blocks_used_peak = std::max(counters_.blocks_used_peak, s.blocks_used);
  s.blocks_used_peak = counters_.blocks_used_peak;
  s.blocks_free = kv_.num_free();
  s.blocks_cached = kv_.num_cached_free();
  s.window_blocks_used = WindowBlocksUsed();
  counters_.window_blocks_used_peak = std::max(counters_.window_blocks_used_peak, s.window_blocks_used);
  s.window_blocks_used_peak = counters_.window_blocks_used_peak;
  s.gate_open_requests = 0;
  for (const auto& [id, a] : active_)
    if (a->policy == DecodePolicy::kNgram && a->gate_open) ++s.gate_open_requests;
  if (cost_.observations() > 0) {
    s.step_cost_1_token_ms = cost_.Predict(1) * 1e3;
    s.step_cost_8_tokens_ms = cost_.Predict(8) * 1e3;
  }
  std::lock_guard<std::mutex> lock(stats_mu_);
  stats_ = s;
}

int64_t EngineCore::WindowBlocksUsed() const {
  int64_t n = 0;
  for (int g = 0; g < kv_.num_groups(); ++g)
    if (kv_.window(g) > 0) n += kv_.pool(g).num_used();
  return n;
}

EngineStats EngineCore::Stats() const {
  std::lock_guard<std::mutex> lock(stats_mu_);
  return stats_;
}

}  // namespace ax
