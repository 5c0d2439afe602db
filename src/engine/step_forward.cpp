// The forward half of an engine step: what the host reads back for the step's logit
// rows, chosen so that as little as possible crosses from the backend, and the
// sampling that the candidates decide (docs/sampling.md).
//
//   every sampled request plain greedy          → argmax ids (Model::Forward, argmax)
//   else every one greedy, top-k within the     → the 64 best ids and logits per row
//     candidates, or top-p / min-p / T alone       (Model::Forward, top-k), plus each row's
//                                                  mass for the latter (SampleTopMass);
//                                                  a row the mass cannot decide makes
//                                                  the step read its logits after all
//   else                                        → the logits (Model::Forward)
//
// Penalised requests take the first two routes too: the backend applies their
// penalties to the logits first (Backend::ApplyPenalties, the same bits as
// Sampler::ApplyPenalties), each draft row's with the drafts before it counted, when
// the step's penalties fit the backend's limits.
//
// AX_SAMPLE_ON_HOST=1 makes every step read logits (the route before any of this), for
// A/B measurements; the tokens are the same either way.
#include <algorithm>
#include <cmath>

#include "base/check.h"
#include "base/env.h"
#include "engine/active_request.h"

namespace ax {
namespace {

bool SampleOnHost() {
  static const bool on = EnvSwitch("AX_SAMPLE_ON_HOST", false);
  return on;
}

}  // namespace

// Stages every sampled row's penalties (entries only for penalised requests). Row i of
// a request with drafts verifies after drafts 1..i, which count as generated tokens.
LogitPenalties EngineCore::StagePenalties(const std::vector<Sampling>& sampling) {
  pen_begin_.assign(1, 0);
  pen_entries_.clear();
  pen_repetition_.clear();
  pen_presence_.clear();
  for (const Sampling& smp : sampling) {
    const Sampler* s = smp.active != nullptr ? &smp.active->sampler : nullptr;
    const Sequence* seq = sched_.Get(smp.id);
    const int32_t* drafts = seq->tokens.data() + seq->tokens.size() - smp.drafts;
    for (int64_t i = 0; i <= smp.drafts; ++i) {
      if (s != nullptr) s->PenaltyEntries(std::span<const int32_t>(drafts, static_cast<size_t>(i)), &pen_entries_);
      pen_begin_.push_back(static_cast<int32_t>(pen_entries_.size()));
      pen_repetition_.push_back(s != nullptr ? s->repetition_factor() : 1.0f);
      pen_presence_.push_back(s != nullptr ? s->presence() : 0.0);
    }
  }
  return {pen_begin_.data(), pen_entries_.data(), pen_repetition_.data(), pen_presence_.data()};
}

Status EngineCore::ForwardStep(const ForwardBatch& batch, const std::vector<Sampling>& sampling, bool all_logits,
                               StepRows* rows) {
  const int64_t vocab = model_.config().vocab_size;
  if (all_logits) {  // prompt-logprob rows: every row whole (the buffer grows to the step's rows)
    const size_t need = batch.logit_rows.size() * static_cast<size_t>(vocab);
    if (logits_.size() < need) logits_.resize(need);
    ++counters_.steps_reading_logits;
    rows->penalised = false;
    rows->logits = logits_.data();
    return model_.Forward(batch, cache_, ForwardOutput::Logits(logits_.data()));
  }
  const int top_k = static_cast<int>(std::min<int64_t>(Backend::kMaxTopRows, vocab));
  // Can the backend apply every penalised request's penalties this step?
  bool penalised = false;
  int64_t logit_rows = 0, entries = 0;
  for (const Sampling& smp : sampling) {
    logit_rows += 1 + smp.drafts;
    if (smp.active == nullptr || !smp.active->sampler.Penalised()) continue;
    penalised = true;
    const size_t per_row = smp.active->sampler.max_penalty_entries(static_cast<size_t>(smp.drafts));
    entries += (1 + smp.drafts) * static_cast<int64_t>(per_row);
  }
  const bool on_backend =
      penalised && logit_rows <= Backend::kMaxPenaltyRows && entries <= Backend::kMaxPenaltyEntries;
  rows->penalised = on_backend;

  // A constrained request samples from its logits masked by its grammar on the host
  // (MaskedRow): such a step reads every row's logits.
  const bool constrained = std::any_of(sampling.begin(), sampling.end(), [](const Sampling& s) {
    return s.active != nullptr && s.active->matcher.has_value();
  });
  bool ids_only = !sampling.empty() && !SampleOnHost() && !constrained, top_only = ids_only, mass = false;
  int64_t row = 0;
  for (const Sampling& smp : sampling) {
    const Sampler* sampler = smp.active != nullptr ? &smp.active->sampler : nullptr;
    const bool greedy = sampler != nullptr && sampler->ArgmaxSuffices(on_backend);
    const bool by_mass = sampler != nullptr && top_k < vocab && sampler->MassSuffices(on_backend);
    ids_only = ids_only && greedy;
    top_only = top_only && (greedy || by_mass || (sampler != nullptr && sampler->TopSuffices(top_k, on_backend)));
    mass = mass || by_mass;
    for (int64_t i = 0; i <= smp.drafts; ++i, ++row) {
      inv_temperature_[static_cast<size_t>(row)] =
          by_mass ? static_cast<float>(1.0 / sampler->params().temperature) : 1.0f;
    }
  }
  // Undecided rows read their logits after the fact, which needs them in one piece.
  if (mass && logit_rows > model_.max_logit_rows()) top_only = false;
  const LogitPenalties penalties = on_backend && (ids_only || top_only) ? StagePenalties(sampling) : LogitPenalties{};
  if (ids_only) {
    rows->argmax = argmax_.data();
    return model_.Forward(batch, cache_, ForwardOutput::Argmax(argmax_.data(), penalties));
  }
  if (top_only) {
    rows->top_k = top_k;
    rows->top_ids = top_ids_.data();
    rows->top_logits = top_logits_.data();
    AX_RETURN_IF_ERROR(model_.Forward(batch, cache_,
                                      ForwardOutput::Top(top_k, top_ids_.data(), top_logits_.data(),
                                                         mass ? inv_temperature_.data() : nullptr,
                                                         mass ? top_mass_.data() : nullptr, penalties)));
    if (!mass) return Status::Ok();
    rows->sampled = mass_tokens_.data();
    if (!SampleFromMass(sampling, top_k, on_backend)) return Status::Ok();
    // A row to sample whole: every row of the step from its (penalised) logits.
    ++counters_.steps_reading_logits;
    rows->logits = logits_.data();
    return model_.ReadLogits(logit_rows, logits_.data());
  }
  rows->penalised = false;  // the host applies them (Sample)
  ++counters_.steps_reading_logits;
  rows->logits = logits_.data();
  return model_.Forward(batch, cache_, ForwardOutput::Logits(logits_.data()));
}

float* EngineCore::MaskedRow(Active& a, const float* row) {
  const int64_t vocab = model_.config().vocab_size;
  a.matcher->FillMask(&a.mask);
  masked_row_.resize(static_cast<size_t>(vocab));
  const int32_t known = std::min<int32_t>(a.mask.size(), static_cast<int32_t>(vocab));
  for (int32_t v = 0; v < known; ++v) masked_row_[static_cast<size_t>(v)] = a.mask.Test(v) ? row[v] : -INFINITY;
  // Ids past the tokenizer's vocabulary (padded embedding rows) have no bytes.
  std::fill(masked_row_.begin() + known, masked_row_.end(), -INFINITY);
  // The stop ids (EOS, end of turn) end the output where it is a complete match.
  if (a.matcher->IsComplete())
    for (int32_t id : a.req.stop_ids)
      if (id >= 0 && id < vocab) masked_row_[static_cast<size_t>(id)] = row[id];
  return masked_row_.data();
}

void EngineCore::RecordPromptLogprobs(const PromptRows& p, const float* logits) {
  const int64_t vocab = model_.config().vocab_size;
  Active& a = *p.active;
  const std::vector<int32_t>& prompt = a.req.prompt;
  const int k = a.req.prompt_logprobs;
  std::vector<std::pair<float, int32_t>> best;
  for (int64_t i = 0; i < p.n; ++i) {
    // Row i (position begin + i) predicts the token at begin + i + 1. After a
    // preemption the prompt is computed again: positions already recorded are skipped.
    const int64_t target = p.begin + i + 1;
    if (target >= static_cast<int64_t>(prompt.size()) || target != static_cast<int64_t>(a.prompt_lp.size()) + 1)
      continue;
    const float* row = logits + (p.row + i) * vocab;
    const float max = *std::max_element(row, row + vocab);
    double sum = 0;
    for (int64_t v = 0; v < vocab; ++v) sum += std::exp(static_cast<double>(row[v]) - max);
    const double log_z = max + std::log(sum);
    TokenEvent t;
    t.id = prompt[static_cast<size_t>(target)];
    t.logprob = static_cast<float>(row[t.id] - log_z);
    if (k > 0) {  // the k best, ties to the lower id
      best.clear();
      for (int64_t v = 0; v < vocab; ++v) best.emplace_back(-row[v], static_cast<int32_t>(v));
      std::partial_sort(best.begin(), best.begin() + std::min<int64_t>(k, vocab), best.end());
      for (int j = 0; j < k && j < vocab; ++j)
        t.top_logprobs.emplace_back(best[static_cast<size_t>(j)].second,
                                    static_cast<float>(-best[static_cast<size_t>(j)].first - log_z));
    }
    a.prompt_lp.push_back(std::move(t));
  }
}

void EngineCore::TakePromptLogprobs(Active& a, StreamEvent* ev) {
  if (a.req.prompt_logprobs < 0 || a.prompt_lp_sent) return;
  a.prompt_lp_sent = true;
  ev->prompt_logprobs = std::move(a.prompt_lp);
}

bool EngineCore::SampleFromMass(const std::vector<Sampling>& sampling, int top_k, bool penalised) {
  const int64_t vocab = model_.config().vocab_size;
  bool undecided = false;
  int64_t row = 0;
  for (const Sampling& smp : sampling) {
    const bool by_mass = smp.active != nullptr && smp.active->sampler.MassSuffices(penalised);
    for (int64_t i = 0; i <= smp.drafts; ++i, ++row) {
      std::optional<SampledToken>& t = mass_tokens_[static_cast<size_t>(row)];
      t.reset();
      if (!by_mass) continue;
      // Row i samples the request's token generated + i (VerifyAndEmit's order).
      Active& a = *smp.active;
      t = a.sampler.SampleTopMass(top_ids_.data() + row * top_k, top_logits_.data() + row * top_k, top_k, vocab,
                                  top_mass_[static_cast<size_t>(row)], Backend::kRowMassRelError, a.generated + i);
      undecided = undecided || !t.has_value();
    }
  }
  return undecided;
}

}  // namespace ax
