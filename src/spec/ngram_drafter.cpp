#include "spec/ngram_drafter.h"

#include <algorithm>
#include <cstring>

#include "base/check.h"
#include "base/rng.h"

namespace ax {

NgramDrafter::NgramDrafter(int max_n) : max_n_(std::clamp(max_n, 2, kMaxN)) { slots_.resize(64); }

uint64_t NgramDrafter::KeyOf(int n, const int32_t* ctx_end) {
  uint64_t h = Mix64(static_cast<uint64_t>(n));
  for (int i = n - 1; i >= 1; --i) h = Mix64(h ^ static_cast<uint32_t>(ctx_end[-i]));
  return h == 0 ? 1 : h;
}

void NgramDrafter::Reserve(size_t max_tokens) {
  history_.reserve(max_tokens);
  ReserveSlots(max_tokens);
}

// The table only: Insert grows it while Extend holds a pointer into history_.
void NgramDrafter::ReserveSlots(size_t max_tokens) {
  size_t want = 64;
  while (want < 2 * max_tokens * static_cast<size_t>(max_n_ - 1)) want <<= 1;
  if (want > slots_.size()) {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.assign(want, Slot{});
    used_ = 0;
    for (const Slot& s : old)
      if (s.key != 0) {
        size_t i = s.key & (slots_.size() - 1);
        while (slots_[i].key != 0) i = (i + 1) & (slots_.size() - 1);
        slots_[i] = s;
        ++used_;
      }
  }
}

void NgramDrafter::Grow() { ReserveSlots(std::max<size_t>(history_.size() * 2, 64)); }

void NgramDrafter::Insert(int /*n*/, uint64_t key, int32_t pos) {
  if (2 * (used_ + 1) > slots_.size()) Grow();
  size_t i = key & (slots_.size() - 1);
  while (slots_[i].key != 0 && slots_[i].key != key) i = (i + 1) & (slots_.size() - 1);
  if (slots_[i].key == 0) ++used_;
  slots_[i] = Slot{key, pos};  // the most recent occurrence wins
}

void NgramDrafter::Extend(const int32_t* tokens, size_t count) {
  for (size_t t = 0; t < count; ++t) {
    history_.push_back(tokens[t]);
    const int32_t pos = static_cast<int32_t>(history_.size()) - 1;
    const int32_t* end = history_.data() + pos;  // context ends just before `pos`
    for (int n = 2; n <= max_n_ && n - 1 <= pos; ++n) Insert(n, KeyOf(n, end), pos);
  }
}

int32_t NgramDrafter::Lookup(int n, const int32_t* ctx_end) const {
  const uint64_t key = KeyOf(n, ctx_end);
  size_t i = key & (slots_.size() - 1);
  while (slots_[i].key != 0) {
    if (slots_[i].key == key) {
      const int32_t pos = slots_[i].pos;
      // Verify the context really matches (hash collisions must not propose).
      if (pos >= n - 1 && std::memcmp(history_.data() + pos - (n - 1), ctx_end - (n - 1), (n - 1) * sizeof(int32_t)) == 0)
        return history_[static_cast<size_t>(pos)];
      return -1;
    }
    i = (i + 1) & (slots_.size() - 1);
  }
  return -1;
}

int NgramDrafter::Propose(int k, int32_t* out) const {
  if (history_.empty() || k <= 0) return 0;
  // Scratch context: the last (max_n - 1) history tokens followed by the drafts so far.
  int32_t ctx[kMaxN + 16];
  const int keep = std::min<int>(max_n_ - 1, static_cast<int>(history_.size()));
  k = std::min(k, 16);
  std::memcpy(ctx, history_.data() + history_.size() - keep, keep * sizeof(int32_t));
  int len = keep, made = 0;
  while (made < k) {
    int32_t next = -1;
    for (int n = std::min(max_n_, len + 1); n >= 2 && next < 0; --n) next = Lookup(n, ctx + len);
    if (next < 0) break;
    out[made++] = next;
    ctx[len++] = next;
  }
  return made;
}

}  // namespace ax
