#include "sample/sampler.h"

#include <algorithm>
#include <cmath>

#include "base/check.h"
#include "base/rng.h"
#include "sample/candidates.h"

namespace ax {

namespace {

// temperature → top-k → top-p → min-p; each keeps a prefix of the canonical order.
void ApplyWarpers(const SamplingParams& p, CandidateSet& c) {
  c.TopK(p.top_k);
  if (p.top_p < 1.0) c.TopP(p.top_p);
  if (p.min_p > 0.0) c.MinP(p.min_p);
}

// The first `n` kept tokens with their logprobs, sorted by (logprob desc, id asc).
// The canonical order already gives that up to rounding of the float logprobs.
void FillTop(CandidateSet& c, int32_t n, std::vector<std::pair<int32_t, float>>* top) {
  top->clear();
  const int64_t count = std::min<int64_t>(n, c.size());
  for (int64_t pos = 0; pos < count; ++pos) {
    const int32_t id = c.At(pos);
    const double lp = c.LogProb(id);
    if (std::isinf(lp)) break;  // logit -inf, and so is everything after it
    top->emplace_back(id, static_cast<float>(lp));
  }
  std::sort(top->begin(), top->end(), [](const auto& a, const auto& b) {
    return a.second > b.second || (a.second == b.second && a.first < b.first);
  });
}

}  // namespace

std::vector<TokenProb> ProcessedDistribution(const SamplingParams& params, const float* logits,
                                             int64_t vocab) {
  if (params.temperature == 0.0) return {{ScanMax(logits, vocab).argmax, 1.0}};
  CandidateSet c;
  c.Reset(logits, vocab, params.temperature);
  ApplyWarpers(params, c);
  c.SortAll();
  std::vector<TokenProb> out;
  const double mass = c.Mass();
  for (int64_t pos = 0; pos < c.size(); ++pos) {
    const int32_t id = c.At(pos);
    const double p = c.Weight(id) / mass;
    if (p <= 0.0) break;  // non-increasing along the order
    out.push_back({id, p});
  }
  return out;
}

Sampler::Sampler(const SamplingParams& params, std::span<const int32_t> prompt)
    : params_(params), cands_(std::make_unique<CandidateSet>()) {
  AX_CHECK_MSG(params_.Validate().ok(), "Sampler: SamplingParams must be validated first");
  if (params_.repetition_penalty == 1.0) return;  // prompt counts only for repetition
  for (int32_t id : prompt) {
    AX_CHECK(id >= 0);
    Touch(id);
  }
}

Sampler::~Sampler() = default;
Sampler::Sampler(Sampler&&) noexcept = default;
Sampler& Sampler::operator=(Sampler&&) noexcept = default;

bool Sampler::Penalised() const {
  return params_.repetition_penalty != 1.0 || params_.presence_penalty != 0.0 ||
         params_.frequency_penalty != 0.0;
}

Sampler::Seen& Sampler::Touch(int32_t id) {
  auto [it, inserted] = slot_.try_emplace(id, static_cast<int32_t>(seen_.size()));
  if (inserted) seen_.push_back({id, 0});
  return seen_[static_cast<size_t>(it->second)];
}

void Sampler::Accept(int32_t id) {
  AX_CHECK(id >= 0);
  ++num_generated_;
  if (Penalised()) ++Touch(id).output_count;
}

// Every entry of seen_ is a seen token (entries exist only while a penalty is on).
// Repetition (HF, float arithmetic as torch does), then frequency and presence
// (vLLM's order), the latter two in double with one rounding to float
// (PenalisedLogit, which backends applying PenaltyEntries share).
void Sampler::ApplyPenalties(float* logits, int64_t vocab) const {
  if (!Penalised()) return;
  const float rep = repetition_factor();
  for (const Seen& s : seen_) {
    AX_CHECK_MSG(s.id < vocab, "sampler: a seen token id is outside the vocabulary");
    logits[s.id] = PenalisedLogit(logits[s.id], rep, params_.presence_penalty, Entry(s));
  }
}

LogitPenalty Sampler::Entry(const Seen& s) const {
  return {s.id, s.output_count > 0 ? 1 : 0, params_.frequency_penalty * s.output_count};
}

void Sampler::PenaltyEntries(std::span<const int32_t> pending, std::vector<LogitPenalty>* out) const {
  if (!Penalised()) return;
  const auto count = [&](int32_t id) {
    return static_cast<int32_t>(std::count(pending.begin(), pending.end(), id));
  };
  for (const Seen& s : seen_) out->push_back(Entry({s.id, s.output_count + count(s.id)}));
  // Pending tokens not seen before, in first-occurrence order (where Touch puts them).
  for (size_t j = 0; j < pending.size(); ++j) {
    const int32_t id = pending[j];
    if (slot_.count(id) != 0 || std::find(pending.begin(), pending.begin() + static_cast<int64_t>(j), id) !=
                                     pending.begin() + static_cast<int64_t>(j)) {
      continue;
    }
    out->push_back(Entry({id, count(id)}));
  }
}

bool Sampler::TopSuffices(int64_t k, bool penalised_logits) const {
  return params_.temperature > 0.0 && params_.top_k >= 1 && params_.top_k <= k && (penalised_logits || !Penalised());
}

SampledToken Sampler::SampleTop(const int32_t* ids, const float* logits, int64_t n, int64_t vocab,
                                int64_t token_index) {
  AX_CHECK(ids != nullptr && logits != nullptr && TopSuffices(n, true) && n <= vocab && token_index >= 0);
  cands_->ResetTop(ids, logits, n, vocab, params_.temperature);
  SampledToken out;
  AX_CHECK(DrawProcessed(token_index, &out));
  return out;
}

bool Sampler::MassSuffices(bool penalised_logits) const {
  const bool cut = params_.top_p < 1.0 || params_.min_p > 0.0;
  return params_.temperature > 0.0 && params_.top_k == 0 && (penalised_logits || !Penalised()) &&
         (cut || !params_.logprobs);
}

std::optional<SampledToken> Sampler::SampleTopMass(const int32_t* ids, const float* logits, int64_t n,
                                                   int64_t vocab, double row_mass, double mass_rel_error,
                                                   int64_t token_index) {
  AX_CHECK(ids != nullptr && logits != nullptr && MassSuffices(true) && n >= 1 && n < vocab && token_index >= 0 &&
           mass_rel_error >= 0.0 && mass_rel_error < 1.0);
  // A NaN or short mass (the best token alone weighs 1) is a row to sample whole.
  if (!(row_mass >= 1.0) || !std::isfinite(row_mass)) return std::nullopt;
  cands_->ResetTop(ids, logits, n, vocab, params_.temperature);
  cands_->BoundRowMass(std::max(1.0, row_mass * (1.0 - mass_rel_error)), row_mass * (1.0 + mass_rel_error));
  SampledToken out;
  if (!DrawProcessed(token_index, &out)) return std::nullopt;
  return out;
}

bool Sampler::ArgmaxSuffices(bool penalised_logits) const {
  return params_.temperature == 0.0 && (penalised_logits || !Penalised()) && !params_.logprobs;
}

SampledToken Sampler::SampleGreedy(const float* logits, int64_t vocab) {
  SampledToken out;
  out.id = ScanMax(logits, vocab).argmax;
  if (!params_.logprobs) return out;
  cands_->Reset(logits, vocab, 1.0);  // log-softmax of the penalised logits at T = 1
  out.logprob = static_cast<float>(cands_->LogProb(out.id));
  FillTop(*cands_, params_.top_logprobs, &out.top);
  return out;
}

SampledToken Sampler::Sample(float* logits, int64_t vocab, int64_t token_index) {
  AX_CHECK(logits != nullptr && vocab > 0 && token_index >= 0);
  ApplyPenalties(logits, vocab);
  return SamplePenalised(logits, vocab, token_index);
}

SampledToken Sampler::SamplePenalised(const float* logits, int64_t vocab, int64_t token_index) {
  AX_CHECK(logits != nullptr && vocab > 0 && token_index >= 0);
  if (params_.temperature == 0.0) return SampleGreedy(logits, vocab);

  cands_->Reset(logits, vocab, params_.temperature);
  SampledToken out;
  AX_CHECK(DrawProcessed(token_index, &out));
  return out;
}

// The warpers, the seeded draw and the logprobs, on the candidates cands_ was reset to.
bool Sampler::DrawProcessed(int64_t token_index, SampledToken* out) {
  CandidateSet& c = *cands_;
  ApplyWarpers(params_, c);
  out->id = c.Draw(CounterUniform(params_.seed, static_cast<uint64_t>(token_index), 0));
  if (params_.logprobs && !c.undecided()) {
    out->logprob = static_cast<float>(c.LogProb(out->id));
    FillTop(c, params_.top_logprobs, &out->top);
  }
  return !c.undecided();
}

}  // namespace ax
