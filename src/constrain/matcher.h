// Per-request grammar state: a set of persistent stacks over the compiled grammar,
// advanced byte by byte as tokens are accepted, and the token mask of what may
// come next.
//
// Mask cost: for each live stack, the cached context-independent verdicts of its
// grammar position are OR-ed in (one bitset OR) and only the position's
// context-dependent tokens are walked with the real stack (see token_cache.h).
//
// Not thread-safe; one Matcher per sequence. Copyable (a copy is independent).
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "constrain/grammar.h"
#include "constrain/stack.h"
#include "constrain/token_cache.h"
#include "constrain/vocab.h"

namespace ax::constrain {

class Matcher {
 public:
  // eos_id: the token that ends the output (-1: none; then only IsComplete tells).
  Matcher(GrammarPtr g, std::shared_ptr<const TokenVocab> vocab, int32_t eos_id);

  // REQUIRES: allowed->size() == vocab->size(). Sets bit t iff token t may come
  // next: its bytes continue the output as a prefix of a match, or t == eos_id
  // and the output so far is a complete match. Tokens without bytes (special
  // tokens) are never allowed, except eos. After eos was accepted: all zero.
  void FillMask(TokenBitset* allowed) const;
  // The same mask by walking the whole vocabulary trie without the cache (for
  // tests and measurements).
  void FillMaskUncached(TokenBitset* allowed) const;

  // Advances by the token's bytes (or ends on eos); false and no change if not allowed.
  bool Accept(int32_t token);
  // Advances by raw bytes as one step (undone by Rollback(1)); false and no change
  // if they do not continue a match.
  bool AcceptBytes(std::string_view bytes);

  bool IsComplete() const;    // the output so far is a complete match (or eos was accepted)
  bool IsTerminated() const;  // complete and nothing more may follow (only eos)
  // Undoes the last `tokens` successful Accept/AcceptBytes calls. REQUIRES: tokens <= num_accepted().
  void Rollback(int tokens);
  int num_accepted() const { return static_cast<int>(history_.size()); }

  const Grammar& grammar() const { return *g_; }

 private:
  struct Step {
    StackPool::Mark mark;
    std::vector<int32_t> stacks;
    bool ended;
  };
  bool Advance(std::string_view bytes);

  GrammarPtr g_;
  std::shared_ptr<const TokenVocab> vocab_;
  std::shared_ptr<TokenCache> cache_;
  int32_t eos_id_;
  mutable StackPool pool_;       // FillMask adds nodes and truncates them again
  std::vector<int32_t> stacks_;  // sorted node ids
  bool ended_ = false;           // eos was accepted
  std::vector<Step> history_;
};

}  // namespace ax::constrain
