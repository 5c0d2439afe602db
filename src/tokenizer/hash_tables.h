// Open-addressing hash tables for the two hot lookups of BPE: piece string ->
// id (vocab) and (left id, right id) -> merge. std::unordered_map costs a node
// allocation per entry and a pointer chase per probe; these are flat arrays.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ax::tok {

inline uint64_t HashBytes(std::string_view s) {
  // FNV-1a, then a final mix so that the low bits are usable as a slot index.
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9ull;
  return h ^ (h >> 32);
}

inline uint64_t Mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  return x ^ (x >> 33);
}

// Maps strings to int32 ids. The strings are owned by the caller's id -> string
// table (`pieces`), which must outlive the map and not move. Each slot keeps 32
// bits of the hash so that most mismatches never touch the string.
class StringIdMap {
 public:
  void Build(const std::vector<std::string>* pieces, const std::vector<int32_t>& ids) {
    pieces_ = pieces;
    size_t cap = 16;
    while (cap < ids.size() * 2) cap <<= 1;
    slots_.assign(cap, Slot{-1, 0});
    mask_ = cap - 1;
    for (int32_t id : ids) Insert(id);
  }
  // Returns the id of s, or -1.
  int32_t Find(std::string_view s) const { return FindHashed(s, HashBytes(s)); }
  // Bulk lookups (loading) hide memory latency: Prefetch(HashBytes(s)) for a
  // batch, then FindHashed each.
  void Prefetch(uint64_t h) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[h & mask_]);
  }
  int32_t FindHashed(std::string_view s, uint64_t h) const {
    if (slots_.empty()) return -1;
    auto tag = static_cast<uint32_t>(h >> 32);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (slot.id < 0) return -1;
      if (slot.tag == tag && (*pieces_)[slot.id] == s) return slot.id;
    }
  }

 private:
  struct Slot {
    int32_t id;
    uint32_t tag;
  };
  void Insert(int32_t id) {
    std::string_view s = (*pieces_)[id];
    uint64_t h = HashBytes(s);
    auto tag = static_cast<uint32_t>(h >> 32);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      if (slots_[i].id < 0) {
        slots_[i] = Slot{id, tag};
        return;
      }
      if (slots_[i].tag == tag && (*pieces_)[slots_[i].id] == s) return;  // duplicate: first id wins
    }
  }
  const std::vector<std::string>* pieces_ = nullptr;
  std::vector<Slot> slots_;
  size_t mask_ = 0;
};

// Maps a pair of ids to (rank, merged id).
class PairMap {
 public:
  struct Value {
    uint32_t rank;
    int32_t id;
  };
  void Reserve(size_t n) {
    size_t cap = 16;
    while (cap < n * 2) cap <<= 1;
    keys_.assign(cap, kEmpty);
    values_.assign(cap, Value{0, -1});
    mask_ = cap - 1;
  }
  // A repeated pair overwrites the earlier entry (HF collects merges into a
  // HashMap, so the last occurrence wins).
  void Put(int32_t a, int32_t b, Value v) {
    uint64_t key = Key(a, b);
    for (size_t i = Mix64(key) & mask_;; i = (i + 1) & mask_) {
      if (keys_[i] == kEmpty || keys_[i] == key) {
        keys_[i] = key;
        values_[i] = v;
        return;
      }
    }
  }
  const Value* Find(int32_t a, int32_t b) const {
    uint64_t key = Key(a, b);
    for (size_t i = Mix64(key) & mask_;; i = (i + 1) & mask_) {
      if (keys_[i] == key) return &values_[i];
      if (keys_[i] == kEmpty) return nullptr;
    }
  }
  size_t size_hint() const { return keys_.size(); }

 private:
  static constexpr uint64_t kEmpty = ~0ull;
  static uint64_t Key(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  }
  std::vector<uint64_t> keys_;
  std::vector<Value> values_;
  size_t mask_ = 0;
};

}  // namespace ax::tok
