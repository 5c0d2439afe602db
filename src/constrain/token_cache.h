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
//
// Repetition chains (RepeatChain in grammar.h): a bounded repetition is one rule
// per count, so without sharing each count is its own key and its own walk of the
// whole vocabulary (a `maxLength: 200` string: ~1700 keys, tens of seconds on a
// 151k vocabulary). With units of at least u bytes, a walk that starts at level c
// of a chain (c units left, counting one in progress) cannot see the chain's end
// (its only difference from the other levels) within reach(c) = (c-1)*u bytes.
// Hence, with L the longest token's length in bytes:
//  - all levels c with reach(c) >= L give the same verdicts: Get maps a key's
//    levels to min(c, cap), cap = the smallest such level (129 for strings on
//    Qwen3), so a long chain costs at most cap levels;
//  - a key at level c below its chain's top t = min(n, cap) agrees, on every token
//    of at most reach(c) bytes, with the key raised to level t. Its entry copies
//    those tokens' verdicts from the raised key's entry and walks only the longer
//    tokens (on Qwen3 ~1.5k of the 151k tokens are longer than 16 bytes).
// Each position of a key is mapped on its own (a bounded string in a bounded
// array holds levels of two chains); the limit is the smallest reach among them.
// Verdicts stay exact: only the key used to compute them changes.
#pragma once

#include <climits>
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
  // The entry of a key (chain levels mapped as above), computed on first use.
  // Thread-safe; the reference stays valid for the cache's lifetime.
  const Entry& Get(std::vector<int32_t> key);
  int32_t num_entries();

 private:
  static constexpr int32_t kNoLimit = INT32_MAX;
  const Entry& ComputeLocked(const std::vector<int32_t>& key);
  // Sorted indices of the tokens longer than `bytes` bytes (cached).
  const std::vector<int32_t>& LongerThan(int32_t bytes);

  const Grammar* g_;
  std::shared_ptr<const TokenVocab> vocab_;
  std::vector<int32_t> all_;  // 0..num_sorted-1
  // Per grammar position: the same position at level min(c, cap) of its chain, at
  // the chain's top level, and the reach of level min(c, cap) when that is below
  // the top (else kNoLimit). Identity / kNoLimit outside chains.
  std::vector<int32_t> canon_, top_, reach_;
  std::map<int32_t, std::vector<int32_t>> longer_;
  std::mutex mu_;
  std::map<std::vector<int32_t>, std::unique_ptr<Entry>> entries_;
};

}  // namespace ax::constrain
