// EngineCore: the request lifecycle and the step loop, one model, any backend.
//
//   submitted ─► waiting ─► running ─► finished (stop token | stop string | length |
//                  ▲           │                 cancelled | error)
//                  └─preempted─┘  (KV ran out: blocks freed, recomputed later)
//
// A step: take new submissions and cancellations → propose n-gram drafts for caught-up
// requests (lengths chosen by the cost model) → the scheduler plans {sequence →
// tokens} and reserves KV blocks → one ForwardBatch over every planned sequence →
// verify drafts / sample for the sequences that caught up → accept, roll back the
// rejected drafts in O(1), stream, finish. Prompt chunks, decodes and drafts are one
// rule: num_computed chases tokens.size().
//
// Thread-safety: Submit and Stats may be called from any thread; Step only from the
// engine thread, which alone touches scheduler, KV and request state.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <mutex>
#include <vector>

#include "ax/engine.h"
#include "constrain/grammar.h"
#include "constrain/vocab.h"
#include "engine/request_stream.h"
#include "engine/stop_matcher.h"
#include "kv/kv_manager.h"
#include "kv/kv_plan.h"
#include "model/model.h"
#include "sample/sampler.h"
#include "sched/scheduler.h"
#include "spec/cost_model.h"
#include "spec/draft_guard.h"
#include "spec/verify.h"
#include "tokenizer/tokenizer.h"

namespace ax {

enum class DecodePolicy { kDirect, kNgram };

struct EngineCoreConfig {
  int64_t ctx_size = 4096;        // max tokens per sequence (prompt + output)
  int block_size = 16;
  // KV pool: blocks of each full-attention KV group; a windowed group gets the blocks
  // its window needs for max_seqs sequences, at most as many (kv/kv_plan.h).
  int num_blocks = 0;
  // Windowed layers give back the blocks behind their window (their own KV groups);
  // false: one table for every layer, windowed layers keep the whole context.
  bool release_window_blocks = true;
  int max_seqs = 16;
  int64_t max_batch_tokens = 512; // ≤ the model's workspace
  bool prefix_caching = true;
  DecodePolicy default_policy = DecodePolicy::kNgram;
  int max_draft = 4;              // drafts per request per step at most
  int ngram_max_n = 5;            // longest n-gram in the draft table
  double gate_alpha = 0.1;        // EMA weight of the acceptance-rate estimate
  double gate_threshold = 0.5;    // drafting off below this estimate, back on above
  // Suspend drafting where it measures slower than plain steps (spec/draft_guard.h).
  // Off only where a caller asserts what drafting does, not how fast it is (tests of
  // acceptance): the guard decides from wall-clock time, which a loaded machine skews.
  bool draft_guard = true;
};

constexpr int kMaxPromptLogprobs = 20;  // top alternatives per prompt position

struct CoreRequest {
  std::vector<int32_t> prompt;
  int64_t max_tokens = 128;
  bool ignore_eos = false;
  std::vector<int32_t> stop_ids;   // EOS + extra stop ids
  std::vector<std::string> stop_strings;
  SamplingParams sampling;
  int priority = 0;
  std::optional<DecodePolicy> policy;  // engine default when unset
  bool skip_special_tokens = true;     // in the text deltas (GenerateRequest's)
  int prompt_logprobs = -1;            // GenerateRequest's
  // Constrained decoding: the compiled grammar and the vocabulary's token bytes (null
  // grammar: unconstrained). The stop ids are allowed where the output is complete.
  constrain::GrammarPtr grammar;
  std::shared_ptr<const constrain::TokenVocab> vocab;
};

class EngineCore {
 public:
  // The model (and tokenizer, may be null) must outlive the core.
  static Result<std::unique_ptr<EngineCore>> Create(Model& model, const Tokenizer* tokenizer,
                                                    const EngineCoreConfig& config);
  ~EngineCore();

  Result<std::shared_ptr<StreamImpl>> Submit(CoreRequest request);
  // One engine step; a forward failure finishes the planned requests with kError.
  Status Step();
  bool HasWork() const;
  // Blocks until a submission arrives or timeout_ms passes.
  void WaitForWork(int timeout_ms);
  EngineStats Stats() const;
  const EngineCoreConfig& config() const { return config_; }

 private:
  struct Active;
  EngineCore(Model& model, const Tokenizer* tok, const EngineCoreConfig& cfg);
  void Admit(std::unique_ptr<Active> a);
  void HandleCancellations();
  // n-gram drafting (spec_step.cpp).
  void ProposeDrafts();
  // What a step's forward read back for its logit rows: logits, or (every sampled
  // request plain greedy) argmax ids, or (every one greedy, top-k sampled within the
  // candidates, or top-p / min-p sampled) each row's top_k best ids and logits, with
  // the tokens SampleTopMass decided from them and the rows' masses.
  struct StepRows {
    float* logits = nullptr;            // [rows, vocab]
    const int32_t* argmax = nullptr;    // [rows]
    int top_k = 0;
    const int32_t* top_ids = nullptr;   // [rows, top_k], canonical order
    const float* top_logits = nullptr;  // [rows, top_k]
    const std::optional<SampledToken>* sampled = nullptr;  // [rows]: set for decided rows
    bool penalised = false;  // the backend applied the penalties: ids, candidates, logits are penalised
  };
  // A sequence sampled this step, its request looked up once per step (nullptr: not
  // active). Only a request's own VerifyAndEmit may finish it, so the pointers of the
  // entries after it stay valid through the step.
  struct Sampling {
    SeqId id;
    int64_t drafts;  // logit rows = 1 + drafts
    Active* active;
    int64_t row;     // its first logit row
  };
  // A prompt chunk whose every row has logits, for the request's prompt logprobs.
  struct PromptRows {
    Active* active;
    int64_t begin, n;  // token positions [begin, begin + n)
    int64_t row;       // the logit row of position begin
  };
  // Prompt logprobs of the chunk's positions the request still lacks, from the rows.
  void RecordPromptLogprobs(const PromptRows& p, const float* logits);
  // The request's first event carries its prompt logprobs.
  static void TakePromptLogprobs(Active& a, StreamEvent* ev);
  // The step's forward and what it reads back (step_forward.cpp).
  // all_logits: every logit row's logits are read (a step with prompt-logprob rows).
  Status ForwardStep(const ForwardBatch& batch, const std::vector<Sampling>& sampling, bool all_logits,
                     StepRows* rows);
  LogitPenalties StagePenalties(const std::vector<Sampling>& sampling);
  // After a top-k forward with masses: SampleTopMass for every row of a MassSuffices
  // request into mass_tokens_ (others nullopt); true when one row was undecided.
  bool SampleFromMass(const std::vector<Sampling>& sampling, int top_k, bool penalised);
  // Rows [row, row + 1 + num_drafts) of `out` are the request's.
  void VerifyAndEmit(Active& a, const StepRows& out, int64_t row, int64_t num_drafts);
  void UpdateGate(Active& a, double outcome);
  // Emits one token; returns true when the request finished because of it.
  bool EmitToken(Active& a, const VerifiedToken& t, bool append_to_sequence);
  // A constrained request's logits row with every token its grammar refuses at -inf
  // (in masked_row_; valid until the next call).
  float* MaskedRow(Active& a, const float* row);
  void FinishRequest(SeqId id, FinishReason reason, const std::string& error);
  void PublishStats();
  // Blocks in use in the windowed KV groups.
  int64_t WindowBlocksUsed() const;
  // Recurrent models: the state slot of a running sequence, taken from the pool on its
  // first planned chunk; given back when it finishes or is preempted (it then
  // recomputes from position 0, which starts a slot from zero state).
  int32_t StateSlot(SeqId id);
  void ReleaseStateSlot(SeqId id);

  Model& model_;
  const Tokenizer* tokenizer_;
  EngineCoreConfig config_;
  // The model has recurrent layers (GatedDelta): every request runs without prefix
  // reuse and holds a state slot while it runs; a drafted step keeps the state after
  // each of its rows, and a rejection restores the accepted one (VerifyAndEmit).
  bool recurrent_ = false;
  std::vector<int32_t> free_state_slots_;  // a stack; the lowest id on top
  std::map<SeqId, int32_t> state_slots_;   // running sequence → its slot
  std::vector<KvGroupSpec> kv_groups_;  // one per KV group (kv/kv_plan.h)
  KvManager kv_;
  Scheduler sched_;
  KvCache cache_;
  StepCostModel cost_;
  // Measured tokens per second of drafted vs plain decode steps (spec/draft_guard.h),
  // and what this step is: its decode rows and whether it carries drafts.
  DraftGuard guard_;
  int64_t step_decode_rows_ = 0;
  bool step_drafted_ = false;
  bool step_trial_ = false;  // the drafts are a DraftGuard trial (BatchMeta::record = false)
  // The gate outcomes of every request, averaged (the gate's alpha): where a new
  // n-gram request's acceptance estimate starts, so that requests of one workload do
  // not each relearn it from the threshold. Negative until the first outcome.
  double accept_prior_ = -1;
  struct DraftProposal {
    Active* a;
    int n;
    int32_t drafts[16];
  };
  std::vector<DraftProposal> draft_proposals_;   // ProposeDrafts scratch
  std::vector<Active*> draft_decoding_;
  std::vector<DraftCandidate> draft_candidates_;
  std::vector<int> draft_lengths_;
  std::vector<float> logits_;
  std::vector<float> masked_row_;
  std::vector<int32_t> argmax_;  // one id per logit row, for steps of plain-greedy requests
  std::vector<int32_t> top_ids_;   // [logit rows, top k], for steps of top-k sampled requests
  std::vector<float> top_logits_;
  std::vector<float> inv_temperature_;  // [logit rows], for steps with row masses
  std::vector<float> top_mass_;
  std::vector<std::optional<SampledToken>> mass_tokens_;
  std::vector<int32_t> pen_begin_;  // [logit rows + 1], for steps whose penalties the backend applies
  std::vector<LogitPenalty> pen_entries_;
  std::vector<float> pen_repetition_;
  std::vector<double> pen_presence_;
  std::map<SeqId, std::unique_ptr<Active>> active_;

  mutable std::mutex inbox_mu_;
  std::condition_variable inbox_cv_;
  std::vector<std::unique_ptr<Active>> inbox_;
  int64_t next_id_ = 1;

  mutable std::mutex stats_mu_;
  EngineStats stats_;       // published copy
  EngineStats counters_;    // engine-thread totals
};

}  // namespace ax
