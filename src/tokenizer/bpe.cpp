#include "tokenizer/bpe.h"

#include <algorithm>

#include "tokenizer/json_util.h"
#include "tokenizer/utf8.h"

namespace ax::tok {
namespace {

// One symbol of the word being merged; a doubly linked list over an array, as
// HF's Word. len == 0 marks a symbol merged into its left neighbour.
struct Sym {
  int32_t id;
  int32_t prev;
  int32_t next;
  uint32_t len;
};

struct HeapItem {
  uint32_t rank;
  uint32_t pos;
  int32_t new_id;
};

// Min-heap on (rank, pos): the lowest rank first, then the leftmost pair.
struct HeapGreater {
  bool operator()(const HeapItem& a, const HeapItem& b) const {
    return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos;
  }
};

struct MergeScratch {
  std::vector<Sym> syms;
  std::vector<HeapItem> heap;
};

MergeScratch& Scratch() {
  thread_local MergeScratch s;
  return s;
}

}  // namespace

Result<std::unique_ptr<BpeModel>> BpeModel::Parse(const Json& j, BpeTables tables,
                                                   const std::string& where) {
  std::unique_ptr<BpeModel> m(new BpeModel());
  if (!tables.has_vocab) return TypeError(where + ".vocab", "an object {token: id}");
  if (!tables.has_merges) return TypeError(where + ".merges", "an array");
  int64_t max_id = -1;
  for (const auto& [token, id] : tables.vocab) {
    if (id > INT32_MAX / 2) return TypeError(where + ".vocab[\"" + token + "\"]", "an id below 2^30");
    max_id = std::max(max_id, id);
  }
  m->pieces_.resize(static_cast<size_t>(max_id + 1));
  m->present_.assign(static_cast<size_t>(max_id + 1), false);
  std::vector<int32_t> ids;
  ids.reserve(tables.vocab.size());
  for (auto& [token, id64] : tables.vocab) {
    auto id = static_cast<int32_t>(id64);
    if (m->present_[id]) {
      return InvalidArgument(where + ".vocab: id " + std::to_string(id) + " is used by both '" +
                             m->pieces_[id] + "' and '" + token + "'");
    }
    m->pieces_[id] = std::move(token);
    m->present_[id] = true;
    ids.push_back(id);
  }
  m->vocab_.Build(&m->pieces_, ids);

  m->merges_.Reserve(tables.merges.size());
  // Batches of lookups with prefetching: loading Gemma 3 does 1.5M random probes.
  constexpr size_t kBatch = 32;
  std::array<std::string, kBatch> joined;
  std::array<uint64_t, kBatch * 3> hashes{};
  for (size_t base = 0; base < tables.merges.size(); base += kBatch) {
    size_t n = std::min(kBatch, tables.merges.size() - base);
    for (size_t k = 0; k < n; ++k) {
      const auto& [a, b] = tables.merges[base + k];
      if (b == "\x01") {
        return InvalidArgument(where + ".merges[" + std::to_string(base + k) + "]: '" + a +
                               "' is not two tokens separated by one space");
      }
      joined[k].assign(a);
      joined[k] += b;
      hashes[3 * k] = HashBytes(a);
      hashes[3 * k + 1] = HashBytes(b);
      hashes[3 * k + 2] = HashBytes(joined[k]);
      for (size_t q = 0; q < 3; ++q) m->vocab_.Prefetch(hashes[3 * k + q]);
    }
    for (size_t k = 0; k < n; ++k) {
      const auto& [a, b] = tables.merges[base + k];
      int32_t ia = m->vocab_.FindHashed(a, hashes[3 * k]);
      int32_t ib = m->vocab_.FindHashed(b, hashes[3 * k + 1]);
      int32_t inew = m->vocab_.FindHashed(joined[k], hashes[3 * k + 2]);
      if (ia < 0 || ib < 0 || inew < 0) {
        return InvalidArgument(where + ".merges[" + std::to_string(base + k) + "]: '" +
                               (ia < 0 ? a : ib < 0 ? b : joined[k]) + "' is not in model.vocab");
      }
      m->merges_.Put(ia, ib, {static_cast<uint32_t>(base + k), inew});
    }
  }

  AX_RETURN_IF_ERROR(GetOptBool(j, "byte_fallback", where, &m->byte_fallback_));
  AX_RETURN_IF_ERROR(GetOptBool(j, "fuse_unk", where, &m->fuse_unk_));
  AX_RETURN_IF_ERROR(GetOptBool(j, "ignore_merges", where, &m->ignore_merges_));
  if (const Json* unk = FindField(j, "unk_token"); unk != nullptr && !unk->is_null()) {
    if (!unk->is_string()) return TypeError(where + ".unk_token", "a string or null");
    m->unk_id_ = m->vocab_.Find(unk->get<std::string>());
  }
  for (const char* affix : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    const Json* f = FindField(j, affix);
    if (f != nullptr && !f->is_null() && !(f->is_string() && f->get<std::string>().empty())) {
      return Unimplemented(where + "." + affix + " '" + f->dump() +
                           "' is not supported (only null or \"\")");
    }
  }
  if (const Json* d = FindField(j, "dropout"); d != nullptr && !d->is_null()) {
    if (!d->is_number()) return TypeError(where + ".dropout", "a number or null");
    if (d->get<double>() != 0.0) {
      return Unimplemented(where + ".dropout " + d->dump() +
                           " is not supported (random merges; expected null)");
    }
  }
  static const char kHex[] = "0123456789ABCDEF";
  for (int byte = 0; byte < 256; ++byte) {
    std::string name = "<0x";
    name += kHex[byte >> 4];
    name += kHex[byte & 15];
    name += '>';
    m->byte_ids_[byte] = m->vocab_.Find(name);
  }
  return m;
}

void BpeModel::Tokenize(std::string_view piece, std::vector<int32_t>* out) const {
  if (piece.empty()) return;
  if (ignore_merges_) {
    int32_t id = vocab_.Find(piece);
    if (id >= 0) {
      out->push_back(id);
      return;
    }
  }
  if (piece.size() > kMaxCachedLen) {
    MergeWord(piece, out);
    return;
  }
  uint64_t h = HashBytes(piece);
  size_t slot = h & (kCacheSlots - 1);
  std::mutex& mu = cache_mu_[slot % kCacheShards];
  {
    std::lock_guard<std::mutex> lock(mu);
    const CacheSlot& c = cache_[slot];
    if (c.key == piece) {
      out->insert(out->end(), c.ids.begin(), c.ids.end());
      return;
    }
  }
  size_t before = out->size();
  MergeWord(piece, out);
  std::lock_guard<std::mutex> lock(mu);
  CacheSlot& c = cache_[slot];
  c.key.assign(piece);
  c.ids.assign(out->begin() + static_cast<ptrdiff_t>(before), out->end());
}

void BpeModel::MergeWord(std::string_view w, std::vector<int32_t>* out) const {
  MergeScratch& s = Scratch();
  std::vector<Sym>& syms = s.syms;
  syms.clear();
  auto add = [&](int32_t id, uint32_t len) {
    auto n = static_cast<int32_t>(syms.size());
    syms.push_back({id, n - 1, n + 1, len});
  };
  // Pending unk symbol (HF's `unk`): fused with the next unknown char when fuse_unk.
  bool have_unk = false;
  uint32_t unk_len = 0;
  size_t i = 0;
  while (i < w.size()) {
    size_t n = std::min(Utf8SeqLen(static_cast<unsigned char>(w[i])), w.size() - i);
    std::string_view ch = w.substr(i, n);
    i += n;
    int32_t id = vocab_.Find(ch);
    if (id >= 0) {
      if (have_unk) {
        add(unk_id_, unk_len);
        have_unk = false;
      }
      add(id, static_cast<uint32_t>(n));
      continue;
    }
    if (byte_fallback_) {
      bool all = true;
      for (char c : ch) all = all && byte_ids_[static_cast<uint8_t>(c)] >= 0;
      if (all) {
        // As in HF, a pending unk is not flushed here.
        for (char c : ch) add(byte_ids_[static_cast<uint8_t>(c)], 1);
        continue;
      }
    }
    if (unk_id_ < 0) continue;  // no unk token: the character is dropped
    if (have_unk && fuse_unk_) {
      unk_len += static_cast<uint32_t>(n);
    } else {
      if (have_unk) add(unk_id_, unk_len);
      have_unk = true;
      unk_len = static_cast<uint32_t>(n);
    }
  }
  if (have_unk) add(unk_id_, unk_len);
  if (syms.empty()) return;
  syms.back().next = -1;

  std::vector<HeapItem>& heap = s.heap;
  heap.clear();
  for (size_t k = 0; k + 1 < syms.size(); ++k) {
    if (const PairMap::Value* v = merges_.Find(syms[k].id, syms[k + 1].id)) {
      heap.push_back({v->rank, static_cast<uint32_t>(k), v->id});
    }
  }
  std::make_heap(heap.begin(), heap.end(), HeapGreater());
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), HeapGreater());
    HeapItem top = heap.back();
    heap.pop_back();
    Sym& cur = syms[top.pos];
    if (cur.len == 0 || cur.next < 0) continue;
    Sym& right = syms[cur.next];
    // Skip entries made stale by an earlier merge at this position.
    const PairMap::Value* v = merges_.Find(cur.id, right.id);
    if (v == nullptr || v->id != top.new_id) continue;
    cur.id = top.new_id;
    cur.len += right.len;
    cur.next = right.next;
    right.len = 0;
    if (cur.next >= 0) syms[cur.next].prev = static_cast<int32_t>(top.pos);
    if (cur.prev >= 0) {
      if (const PairMap::Value* pv = merges_.Find(syms[cur.prev].id, cur.id)) {
        heap.push_back({pv->rank, static_cast<uint32_t>(cur.prev), pv->id});
        std::push_heap(heap.begin(), heap.end(), HeapGreater());
      }
    }
    if (cur.next >= 0) {
      if (const PairMap::Value* nv = merges_.Find(cur.id, syms[cur.next].id)) {
        heap.push_back({nv->rank, top.pos, nv->id});
        std::push_heap(heap.begin(), heap.end(), HeapGreater());
      }
    }
  }
  for (const Sym& sym : syms) {
    if (sym.len != 0) out->push_back(sym.id);
  }
}

}  // namespace ax::tok
