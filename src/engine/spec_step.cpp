// The n-gram speculation half of an engine step: proposing drafts before the plan and
// verifying them after the forward (see docs/speculative.md).
#include <algorithm>

#include "base/check.h"
#include "engine/active_request.h"

namespace ax {

void EngineCore::ProposeDrafts() {
  step_decode_rows_ = 0;
  step_drafted_ = false;
  step_trial_ = false;
  if (config_.max_draft <= 0) return;
  // Scratch reused every step (no allocation on the hot path once sized).
  std::vector<DraftProposal>& proposals = draft_proposals_;
  std::vector<DraftCandidate>& candidates = draft_candidates_;
  proposals.clear();
  candidates.clear();
  // The decode rows the step holds without drafts, as the scheduler will plan them
  // (running sequences in order under the token budget); each yields a token.
  std::vector<Active*>& decoding = draft_decoding_;
  decoding.clear();
  int64_t budget = config_.max_batch_tokens;
  for (SeqId id : sched_.running()) {
    const Sequence* s = sched_.Get(id);
    const int64_t gap = static_cast<int64_t>(s->tokens.size()) - s->num_computed;
    const int64_t n = std::min(gap, budget);
    budget -= n;
    // Still in its prompt (not part of the decode-step model), the last prompt row
    // included: a chunked prompt can leave exactly that row for this step, and a forward
    // computes prompt rows apart from drafted ones.
    if (gap != 1 || n != 1 || s->num_computed < s->num_prompt) continue;
    Active& a = *active_.at(id);
    a.shadow = -1;
    decoding.push_back(&a);
  }
  const int64_t base_tokens = static_cast<int64_t>(decoding.size()), base_outputs = base_tokens;
  step_decode_rows_ = base_outputs;
  // Drafting at this row count measured slower than plain steps (or no baseline yet):
  // no drafts, and no proposing either (its host work is part of what loses).
  if (base_outputs == 0) return;
  if (config_.draft_guard) {
    if (!guard_.Allow(base_outputs)) return;
    step_trial_ = guard_.trial();
  }
  for (Active* ap : decoding) {
    Active& a = *ap;
    if (a.policy != DecodePolicy::kNgram) continue;
    const Sequence* s = sched_.Get(a.id);
    // Room left: the drafts and the bonus token must fit max_tokens and the context.
    const int64_t room = std::min(a.req.max_tokens - a.generated, a.max_total - static_cast<int64_t>(s->tokens.size())) - 1;
    DraftProposal p{&a, 0, {}};
    p.n = a.drafter.Propose(static_cast<int>(std::min<int64_t>(config_.max_draft, std::max<int64_t>(room, 1))), p.drafts);
    if (a.matcher) {
      // Drafts end before the first token the grammar refuses (it could never be
      // accepted): the state advances through them and rolls back at once.
      int valid = 0;
      while (valid < p.n && a.matcher->Accept(p.drafts[valid])) ++valid;
      a.matcher->Rollback(valid);
      p.n = valid;
    }
    if (p.n == 0) continue;
    if (!a.gate_open || room < 1) {
      a.shadow = p.drafts[0];  // keep scoring the table while not drafting
      continue;
    }
    candidates.push_back({a.accept_ema, p.n});
    proposals.push_back(p);
  }
  if (proposals.empty()) return;
  std::vector<int>& k = draft_lengths_;
  // A backend that replays a graph per batch shape: steps of a multiple of the decode
  // rows, so drafting makes a few shapes (8, 16, ... at 8 requests), not one per count.
  const int64_t quantum = model_.backend().RecordsForwards() ? base_tokens : 1;
  PlanDraftLengthsInto(cost_, base_tokens, base_outputs, candidates, &k, quantum);
  for (size_t i = 0; i < proposals.size(); ++i) {
    if (k[i] > 0) {
      sched_.AddDrafts(proposals[i].a->id, proposals[i].drafts, k[i]);
      step_drafted_ = true;
    } else {
      proposals[i].a->shadow = proposals[i].drafts[0];
    }
  }
}

void EngineCore::UpdateGate(Active& a, double outcome) {
  a.accept_ema = (1 - config_.gate_alpha) * a.accept_ema + config_.gate_alpha * outcome;
  accept_prior_ =
      accept_prior_ < 0 ? outcome : (1 - config_.gate_alpha) * accept_prior_ + config_.gate_alpha * outcome;
  a.gate_open = a.accept_ema >= config_.gate_threshold;
}

void EngineCore::VerifyAndEmit(Active& a, const StepRows& out, int64_t row, int64_t num_drafts) {
  const int64_t vocab = model_.config().vocab_size;
  // The target token of the request's row i given the draft it verifies (-1: none),
  // drawn as Sample draws it, from whichever form the step read back.
  const auto target = [&](int64_t i, int32_t draft) {
    const int64_t r = row + i;
    if (out.logits != nullptr) {
      float* logits = a.matcher ? MaskedRow(a, out.logits + r * vocab) : out.logits + r * vocab;
      return SampleWithDraft(a.sampler, logits, vocab, a.generated, draft, out.penalised);
    }
    VerifiedToken t;
    if (out.sampled != nullptr && out.sampled[r].has_value()) {
      const SampledToken& s = *out.sampled[r];
      t.id = s.id;
      t.logprob = s.logprob;
      t.top = s.top;
    } else if (out.argmax != nullptr) {
      t.id = out.argmax[r];
    } else if (a.sampler.ArgmaxSuffices(out.penalised)) {
      t.id = out.top_ids[r * out.top_k];  // the best of the canonical order
    } else {
      SampledToken s = a.sampler.SampleTop(out.top_ids + r * out.top_k, out.top_logits + r * out.top_k, out.top_k,
                                           vocab, a.generated);
      t.id = s.id;
      t.logprob = s.logprob;
      t.top = std::move(s.top);
    }
    t.draft_accepted = draft >= 0 && t.id == draft;
    return t;
  };
  ++a.metrics.forwards;
  if (num_drafts == 0) {
    const VerifiedToken t = target(0, -1);
    if (a.shadow >= 0) UpdateGate(a, t.id == a.shadow ? 1.0 : 0.0);
    a.shadow = -1;
    EmitToken(a, t, /*append_to_sequence=*/true);
    return;
  }
  // Row i holds the logits after [.., last, d1..di]; it verifies draft i+1, and the
  // row after the last accepted draft gives the bonus (or correcting) token.
  int32_t drafts[16];
  const Sequence* s = sched_.Get(a.id);
  AX_CHECK(s->num_draft == num_drafts);
  std::copy_n(s->tokens.end() - num_drafts, num_drafts, drafts);
  a.metrics.draft_tokens_proposed += num_drafts;
  counters_.draft_tokens_proposed += num_drafts;
  int64_t accepted = 0;
  for (int64_t i = 0; i <= num_drafts; ++i) {
    const int32_t draft = i < num_drafts ? drafts[i] : -1;
    const VerifiedToken t = target(i, draft);
    if (t.draft_accepted) {
      ++accepted;
      ++a.metrics.draft_tokens_accepted;
      ++counters_.draft_tokens_accepted;
      if (EmitToken(a, t, /*append_to_sequence=*/false)) return;  // finished: `a` is gone
      continue;
    }
    UpdateGate(a, static_cast<double>(accepted) / static_cast<double>(num_drafts));
    sched_.ResolveDrafts(a.id, accepted);  // rejected drafts roll back: only the length moves
    // ... and a recurrent state to the one after row `accepted` ([last, d1..d_accepted]).
    if (recurrent_ && accepted < num_drafts) {
      const Status st = model_.RestoreState(cache_, StateSlot(a.id), static_cast<int>(accepted));
      AX_CHECK_MSG(st.ok(), st.message().c_str());
    }
    EmitToken(a, t, /*append_to_sequence=*/true);
    return;
  }
}

}  // namespace ax
