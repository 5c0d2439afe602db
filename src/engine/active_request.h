// Engine-thread state of one request (private to src/engine).
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "constrain/matcher.h"
#include "engine/engine_core.h"
#include "spec/ngram_drafter.h"

namespace ax {

struct EngineCore::Active {
  SeqId id = 0;
  std::shared_ptr<StreamImpl> stream;
  CoreRequest req;
  Sampler sampler;
  std::unique_ptr<IncrementalDecoder> detok;
  StopMatcher stop;
  int64_t generated = 0;
  int64_t max_total = 0;  // prompt + output tokens at most
  bool admitted = false;
  RequestMetrics metrics;
  std::vector<TokenEvent> prompt_lp;  // prompt positions 1 … so far (prompt_logprobs)
  bool prompt_lp_sent = false;
  double t_submit = 0, t_last_token = 0;

  // n-gram speculation
  DecodePolicy policy = DecodePolicy::kDirect;
  NgramDrafter drafter;
  double accept_ema = 0;
  bool gate_open = true;
  int32_t shadow = -1;  // the table's guess for the next token while not drafting

  // Constrained decoding: the grammar state after the tokens emitted so far, and the
  // mask buffer of the next token.
  std::optional<constrain::Matcher> matcher;
  constrain::TokenBitset mask;

  Active(CoreRequest r, const Tokenizer* tok, const EngineCoreConfig& cfg)
      : req(std::move(r)),
        sampler(req.sampling, req.prompt),
        stop(req.stop_strings),
        policy(req.policy.value_or(cfg.default_policy)),
        drafter(cfg.ngram_max_n) {
    if (tok != nullptr) detok = std::make_unique<IncrementalDecoder>(*tok, req.skip_special_tokens);
    if (req.grammar) {
      matcher.emplace(req.grammar, req.vocab, /*eos_id=*/-1);  // stop ids: EmitToken, MaskedRow
      mask = constrain::TokenBitset(req.vocab->size());
    }
    if (policy == DecodePolicy::kNgram) {
      drafter.Reserve(req.prompt.size() + static_cast<size_t>(req.max_tokens) + 8);
      drafter.Extend(req.prompt.data(), req.prompt.size());
      // Start at the threshold: drafting is tried, and a bad first run closes the gate.
      accept_ema = cfg.gate_threshold;
    }
    metrics.policy = policy == DecodePolicy::kNgram ? "ngram" : "direct";
  }
};

}  // namespace ax
