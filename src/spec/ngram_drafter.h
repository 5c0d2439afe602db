// NgramDrafter: proposes draft tokens for one request from an n-gram table built at
// run time over its own prompt and generated tokens — no second model.
//
// For every n in [2, max_n] the table maps the hash of the last n-1 tokens to the most
// recent position that followed them. Proposing walks forward from the current end:
// look up the longest context first (trigram before bigram), take the token that
// followed it last time, append it to a scratch context and repeat, up to k tokens.
//
// Worked example, max_n 3, history "a b c d a b":
//   contexts seen: (a)→b (b)→c (c)→d (d)→a ; (a b)→c (b c)→d (c d)→a (d a)→b
//   Propose(3): context (a b) → c; (b c) → d; (c d) → a  ⇒ drafts [c, d, a]
//
// Hot path (Propose, Extend) allocates nothing once Reserve() has sized the history
// and tables for the request's maximum length. Hash hits are verified against the
// history, so a collision can only miss, never propose a wrong continuation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ax {

class NgramDrafter {
 public:
  static constexpr int kMaxN = 8;

  // max_n: longest n-gram (3 = trigram; 2..kMaxN).
  explicit NgramDrafter(int max_n = 3);

  // Sizes history and tables for `max_tokens` tokens in total.
  void Reserve(size_t max_tokens);
  // Appends tokens to the history (the prompt, then every accepted token).
  void Extend(const int32_t* tokens, size_t n);
  void Push(int32_t token) { Extend(&token, 1); }
  // Writes up to k proposed continuations to out; returns how many (0 on no match).
  int Propose(int k, int32_t* out) const;

  size_t size() const { return history_.size(); }

 private:
  struct Slot {
    uint64_t key = 0;   // 0: empty
    int32_t pos = -1;   // index of the token that followed the context
  };
  // Looks up the token that followed `ctx` (n-1 tokens ending at ctx_end - 1 in `seq`).
  int32_t Lookup(int n, const int32_t* ctx_end) const;
  void Insert(int n, uint64_t key, int32_t pos);
  void Grow();                            // the table, for twice the history
  void ReserveSlots(size_t max_tokens);   // the table for max_tokens (never touches history_)
  static uint64_t KeyOf(int n, const int32_t* ctx_end);

  int max_n_;
  std::vector<int32_t> history_;
  std::vector<Slot> slots_;  // open addressing, one table for every n (n is in the key)
  size_t used_ = 0;
};

}  // namespace ax
