// Token walks over the sorted vocabulary and the per-grammar token cache. Internal.
//
// Cache (the xgrammar idea): for the top kDepth grammar positions of a stack
// (p1 above p2 above ...), walk every token from the stack p1 -> ... -> kContext,
// where kContext stands for whatever the real stack holds below (kAccept instead
// when the real stack ends there). Several levels are needed because repetitions
// are rules: inside a JSON string the top is one character's rule, and only with
// the loop and the closing quote below it are most tokens decided. A token is
//   accepted  - some path consumes all its bytes (true in every context),
//   dependent - no path does, but one reached kContext with bytes left,
//   rejected  - neither (false in every context).
// At run time only the dependent tokens are walked with the real stack. For most
// positions (inside a string, after a key) dependent tokens are a small fraction.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "constrain/grammar.h"
#include "constrain/stack.h"
#include "constrain/vocab.h"

namespace ax::constrain {

// Walks the tokens of sorted indices idx[0..n) (increasing) from the stacks
// `start`, sharing the work of common prefixes. Appends the sorted indices of
// accepted tokens to `accepted` and, with track_context, of dependent ones to
// `dependent`. The pool is left as it was found.
void WalkTokens(StackPool* pool, const TokenVocab& v, const std::vector<int32_t>& start,
                const int32_t* idx, size_t n, bool track_context, std::vector<int32_t>* accepted,
                std::vector<int32_t>* dependent);

class TokenCache {
 public:
  struct Entry {
    TokenBitset accepted;             // by token id
    std::vector<int32_t> dependent;   // sorted indices, increasing
  };

  TokenCache(const Grammar* g, std::shared_ptr<const TokenVocab> v);
  const TokenVocab& vocab() const { return *vocab_; }
  static constexpr int kDepth = 4;
  // The key of stack `node`: the positions of its top kDepth nodes, then -1 if
  // the stack ends (kAccept) within them.
  static std::vector<int32_t> KeyOf(const StackPool& pool, int32_t node);
  // The entry of a key, computed on first use. Thread-safe; the reference stays
  // valid for the cache's lifetime.
  const Entry& Get(const std::vector<int32_t>& key);
  int32_t num_entries();

 private:
  const Entry& ComputeLocked(const std::vector<int32_t>& key);

  const Grammar* g_;
  std::shared_ptr<const TokenVocab> vocab_;
  std::vector<int32_t> all_;  // 0..num_sorted-1
  std::mutex mu_;
  std::map<std::vector<int32_t>, std::unique_ptr<Entry>> entries_;
};

}  // namespace ax::constrain
