// The BPE model of tokenizer.json ("model": {"type": "BPE", ...}), with HF's
// semantics: characters of a piece become symbols (unknown ones become byte
// fallback tokens <0xNN> or the unk token, fused when fuse_unk), then the
// lowest-ranked adjacent pair is merged until no pair has a merge (ties go to
// the leftmost pair). ignore_merges takes a piece that is itself in the vocab
// as one token. Results for short pieces are kept in a bounded cache.
//
// Thread-safety: Tokenize may be called concurrently (the cache is sharded
// behind mutexes; merge scratch space is per thread).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "ax/status.h"
#include "tokenizer/hash_tables.h"
#include "tokenizer/json_reader.h"

namespace ax::tok {

class BpeModel {
 public:
  // `model` is tokenizer.json's "model" object without vocab and merges, which
  // come in `tables` (see json_reader.h); `where` prefixes error messages.
  static Result<std::unique_ptr<BpeModel>> Parse(const nlohmann::json& model, BpeTables tables,
                                                 const std::string& where);

  // Appends the ids of one pre-tokenized piece (valid UTF-8) to *out.
  void Tokenize(std::string_view piece, std::vector<int32_t>* out) const;

  int32_t TokenToId(std::string_view token) const { return vocab_.Find(token); }  // -1 if absent
  // nullptr when the id is not in the vocab.
  const std::string* IdToToken(int32_t id) const {
    if (id < 0 || static_cast<size_t>(id) >= pieces_.size() || !present_[id]) return nullptr;
    return &pieces_[id];
  }
  int32_t id_bound() const { return static_cast<int32_t>(pieces_.size()); }  // max id + 1

 private:
  BpeModel() = default;
  void MergeWord(std::string_view piece, std::vector<int32_t>* out) const;

  std::vector<std::string> pieces_;  // id -> token string ("" for holes)
  std::vector<bool> present_;
  StringIdMap vocab_;
  PairMap merges_;
  std::array<int32_t, 256> byte_ids_{};  // <0xNN> ids, -1 when absent
  bool byte_fallback_ = false;
  bool fuse_unk_ = false;
  bool ignore_merges_ = false;
  int32_t unk_id_ = -1;

  // Direct-mapped cache of piece -> ids for pieces up to kMaxCachedLen bytes.
  static constexpr size_t kCacheSlots = 1 << 15;
  static constexpr size_t kCacheShards = 16;
  static constexpr size_t kMaxCachedLen = 128;
  struct CacheSlot {
    std::string key;
    std::vector<int32_t> ids;
  };
  mutable std::vector<CacheSlot> cache_{kCacheSlots};
  mutable std::array<std::mutex, kCacheShards> cache_mu_;
};

}  // namespace ax::tok
