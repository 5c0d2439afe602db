// Paged causal GQA attention (contract: AttentionParams in kernels/params.h).
//
// Tile: one sequence, one kv head, and up to 8 query vectors that read that kv head —
// HG query heads of the group x TQ consecutive query tokens, HG*TQ <= 8 (GQA 2: 2 heads
// x 4 tokens; decode: the G heads of one token). One lane of a ymm register per query
// vector, so the online softmax runs 8 query vectors at once:
//
//   for each chunk of keys (a cache block, packed or not) up to the tile's last position:
//     S[j][i]  = scale * q_i · k_j                 K row read once for all lanes i
//                (lane i masked when key j > pos_i: causal, or i is an empty lane)
//     m'       = max(m, max_j S[j])                 per lane
//     P[j]     = exp(S[j] - m'), alpha = exp(m - m'),  l = alpha*l + sum_j P[j]
//     O[i][:]  = alpha_i*O[i][:] + sum_j P[j][i] * v_j[:]   V row read once for all i
//   out_i = O[i] / l_i
//
// The cache (kernels/params.h KvLayout) is f32 or bf16, head-major (the CPU backend's:
// one head's keys of a block are contiguous, block_size * head_dim elements) or
// slot-major (consecutive keys of one head n_kv_heads*head_dim elements apart, 4 KiB
// for 8 x 128 f32: they fall into the same few cache sets and a page each).
//
// Unit (the scheduling grain): up to kTilesPerUnit consecutive tiles of one (sequence,
// kv head). A unit of several tiles first copies its kv head's K and V rows [0, last
// position] out of the paged cache into contiguous thread-local f32 [keys, head_dim]
// arrays (bf16 widened once, not once per tile; no set conflicts in the slot-major
// layout), which the unit's tiles re-read from L2. Single-tile units (decode) read the
// cache directly, with explicit prefetch (the next block is elsewhere). bf16 widens to
// f32 exactly, so a row reads the same values on either path.
// Units are sorted by cost and handed out from an atomic counter, so causal prefill
// (late tokens cost more) balances over the pool.
//
// Decode tiles (one query token, single-tile units) of a head-major cache with head_dim
// a multiple of 16 take the AVX-512 walk of attention_wide.cpp where the processor has
// it (AX_CPU_ATTN_WIDE=0: this file's AVX2 walk); it gives this walk's bits.
#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <cfloat>
#include <climits>
#include <cstring>
#include <vector>

#include "base/check.h"
#include "base/env.h"
#include "kernels/cpu/attention_internal.h"
#include "kernels/cpu/cpu.h"
#include "kernels/cpu/simd.h"

namespace ax::kernels::cpu {
namespace {

constexpr int kLanes = 8;

struct Tile {
  int32_t seq;
  int32_t t0;       // first query row
  int32_t ntok;     // query rows in the tile (<= TQ)
  int32_t kv_head;
  int32_t h0;       // first query head (absolute)
  int32_t nheads;   // query heads in the tile (<= HG)
  int32_t max_pos;  // largest position among the tile's rows
};

struct Unit {
  int32_t tile_begin, tile_end;  // into the tile list; same seq, kv head and heads
  int32_t max_pos;
  int64_t cost;
};

constexpr int kTilesPerUnit = 16;

// Where the K/V rows of key chunk c (keys [c*chunk, (c+1)*chunk)) of one kv head live:
// K row j of the chunk at k + Offset(c) + j*stride (same for v). T: float, or uint16_t
// holding bf16.
template <typename T>
struct PagedKv {
  using Elem = T;
  static constexpr bool kPrefetch = true;
  const T* k;  // cache base + the kv head's row of slot 0 (KvRowOffset)
  const T* v;
  const int32_t* table;
  int64_t chunk;        // block_size
  int64_t stride;       // head-major: head_dim; slot-major: n_kv_heads * head_dim
  int64_t block_elems;  // block_size * n_kv_heads * head_dim
  // Head-major: a chunk's K and V rows are two contiguous runs, prefetched a whole chunk
  // ahead. Slot-major: rows 4 KiB apart, prefetched a few keys ahead (further ahead they
  // evict each other: they share a few cache sets).
  bool chunk_ahead;
  int64_t Offset(int64_t c) const { return static_cast<int64_t>(table[c]) * block_elems; }
};
struct PackedKv {
  using Elem = float;
  static constexpr bool kPrefetch = false;  // contiguous: the hardware prefetcher follows
  static constexpr bool chunk_ahead = false;
  const float* k;
  const float* v;
  int64_t chunk;        // block_size (the same key chunks as the paged walk)
  int64_t stride;       // head_dim
  int64_t first_chunk;  // the packed rows start at key first_chunk * chunk
  int64_t Offset(int64_t c) const { return (c - first_chunk) * chunk * stride; }
};

// 8 keys' elements as f32 (bf16 widens exactly); LoadTail: the first n (< 8) of them.
inline __m256 Load8(const float* p) { return _mm256_loadu_ps(p); }
inline __m256 Load8(const uint16_t* p) { return simd::LoadBf16x8(p); }
inline __m256 LoadTail(const float* p, int, __m256i mask) { return _mm256_maskload_ps(p, mask); }
inline __m256 LoadTail(const uint16_t* p, int n, __m256i) {
  alignas(16) uint16_t t[8] = {};
  std::memcpy(t, p, static_cast<size_t>(n) * sizeof(uint16_t));
  return simd::LoadBf16x8(t);
}

// Thread-local working memory (std::vector: only 16-byte aligned, so the kernels use
// unaligned loads/stores on it).
struct TileScratch {
  std::vector<float> o;       // [8][hd8] running numerators
  std::vector<float> pb;      // [chunk][8] scores, then probabilities
  std::vector<float> pk, pv;  // packed K and V of the current unit: [keys][head_dim]
};

// Dot products of query vectors q[i0 .. i0+NI) (NI <= 4) with keys k0, k1, k2:
// lane i of *r01 = q_{i0+i}·k0, lane 4+i = q_{i0+i}·k1; lane i of *r2 = q_{i0+i}·k2.
// Three keys per pass: 12 independent accumulators keep both FMA ports busy through
// the 4-cycle FMA latency (two keys, 8 chains: measured 62 vs 90 GFLOP/s on one core),
// and each q load feeds three FMAs.
template <int NI, typename T>
inline void QkTriple(const float* const* q, int i0, const T* k0, const T* k1, const T* k2, int hd8, int tail,
                     __m256i tail_mask, __m256* r01, __m128* r2) {
  __m256 acc[12];
  for (__m256& a : acc) a = _mm256_setzero_ps();
  for (int d = 0; d < hd8; d += 8) {
    const __m256 a = Load8(k0 + d), b = Load8(k1 + d);
    const __m256 c = Load8(k2 + d);
    for (int i = 0; i < NI; ++i) {
      const __m256 qv = _mm256_loadu_ps(q[i0 + i] + d);
      acc[i] = _mm256_fmadd_ps(qv, a, acc[i]);
      acc[4 + i] = _mm256_fmadd_ps(qv, b, acc[4 + i]);
      acc[8 + i] = _mm256_fmadd_ps(qv, c, acc[8 + i]);
    }
  }
  if (tail) {
    const __m256 a = LoadTail(k0 + hd8, tail, tail_mask);
    const __m256 b = LoadTail(k1 + hd8, tail, tail_mask);
    const __m256 c = LoadTail(k2 + hd8, tail, tail_mask);
    for (int i = 0; i < NI; ++i) {
      const __m256 qv = _mm256_maskload_ps(q[i0 + i] + hd8, tail_mask);
      acc[i] = _mm256_fmadd_ps(qv, a, acc[i]);
      acc[4 + i] = _mm256_fmadd_ps(qv, b, acc[4 + i]);
      acc[8 + i] = _mm256_fmadd_ps(qv, c, acc[8 + i]);
    }
  }
  *r01 = simd::Hsum8(acc);
  const __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(acc[8], acc[9]), _mm256_hadd_ps(acc[10], acc[11]));
  *r2 = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

// O[i][d, d+8*C) = al[i]*O[i][d, d+8*C) + sum_j P[j][i] * v_j[d, d+8*C) for query
// vectors i in [i0, i0+NI), NI <= 4, C <= 3 columns of 8: up to 12 accumulators, each
// broadcast of P feeds C FMAs.
template <int NI, int C, typename T>
inline void PvCols(float* o, int hd_pad, int d, int i0, const float* al, const T* vb, int64_t stride, const float* pb,
                   int nk) {
  __m256 acc[NI][C];
  for (int i = 0; i < NI; ++i) {
    const __m256 s = _mm256_set1_ps(al[i0 + i]);
    for (int c = 0; c < C; ++c) {
      acc[i][c] = _mm256_mul_ps(_mm256_loadu_ps(o + (i0 + i) * hd_pad + d + 8 * c), s);
    }
  }
  for (int j = 0; j < nk; ++j) {
    __m256 v[C];
    for (int c = 0; c < C; ++c) v[c] = Load8(vb + j * stride + d + 8 * c);
    for (int i = 0; i < NI; ++i) {
      const __m256 pj = _mm256_broadcast_ss(pb + j * kLanes + i0 + i);
      for (int c = 0; c < C; ++c) acc[i][c] = _mm256_fmadd_ps(pj, v[c], acc[i][c]);
    }
  }
  for (int i = 0; i < NI; ++i) {
    for (int c = 0; c < C; ++c) _mm256_storeu_ps(o + (i0 + i) * hd_pad + d + 8 * c, acc[i][c]);
  }
}

template <int NQ, typename Kv>
void RunTile(const AttentionParams& p, const Tile& tile, const Kv& kv, TileScratch& sc) {
  const int hd = p.head_dim;
  const int hd8 = hd & ~7;
  const int tail = hd - hd8;
  const int hd_pad = (hd + 7) & ~7;
  const __m256i tail_mask = simd::TailMask(tail);
  const int64_t kv_stride = kv.stride;  // between consecutive keys

  const float* q[NQ];
  float* out[NQ];
  alignas(32) int32_t pos[kLanes];
  alignas(32) int32_t lo[kLanes];  // lowest key each lane sees (sliding window), else 0
  int32_t max_pos = 0, min_lo = INT32_MAX;
  for (int i = 0; i < kLanes; ++i) {
    if (i < NQ) {
      const int64_t t = tile.t0 + i / tile.nheads;
      const int64_t h = tile.h0 + i % tile.nheads;
      q[i] = p.q + (t * p.n_heads + h) * hd;
      out[i] = p.out + (t * p.n_heads + h) * hd;
      pos[i] = p.positions[t];
      lo[i] = p.window > 0 ? std::max(0, pos[i] - p.window + 1) : 0;
      max_pos = std::max(max_pos, pos[i]);
      min_lo = std::min(min_lo, lo[i]);
    } else {
      pos[i] = -1;  // empty lane: every key masked
      lo[i] = 0;
    }
  }
  const __m256i vpos = _mm256_load_si256(reinterpret_cast<const __m256i*>(pos));
  const __m256i vlo = _mm256_load_si256(reinterpret_cast<const __m256i*>(lo));
  const bool capped = p.softcap > 0, windowed = p.window > 0;
  const __m256 cap = _mm256_set1_ps(p.softcap), inv_cap = _mm256_set1_ps(capped ? 1.0f / p.softcap : 0.0f);

  sc.o.assign(static_cast<size_t>(kLanes) * hd_pad, 0.0f);
  sc.pb.resize(static_cast<size_t>(kv.chunk) * kLanes);
  float* o = sc.o.data();
  float* pb = sc.pb.data();
  __m256 m = _mm256_set1_ps(-FLT_MAX), l = _mm256_setzero_ps();
  const __m256 scale = _mm256_set1_ps(p.scale);

  // Chunks before the tile's lowest visible key are skipped. A chunk (or key) masked for
  // one lane but not another leaves that lane's state exactly as it was (alpha 1,
  // probabilities 0), so a row's result does not depend on its tile-mates' windows.
  for (int64_t c = min_lo / kv.chunk, key0 = c * kv.chunk; key0 <= max_pos; ++c, key0 += kv.chunk) {
    const int nk = static_cast<int>(std::min<int64_t>(kv.chunk, max_pos + 1 - key0));
    using T = typename Kv::Elem;
    constexpr int kLine = 64 / sizeof(T);  // elements per cache line (prefetch step)
    const T* kb = kv.k + kv.Offset(c);
    const T* vb = kv.v + kv.Offset(c);
    // Paged blocks sit at scattered places, which the hardware prefetcher does not
    // follow. Head-major: the next chunk's K and V rows are prefetched key by key along
    // this chunk's (kAhead chunks ahead: a decode walk keeps ~16 KiB in flight, what
    // DRAM latency needs; one chunk ahead measured 0.27 of bandwidth). Slot-major: K two
    // keys ahead (into the next chunk at the end of this one), V of the key being scored
    // (used after the chunk's scores).
    constexpr int64_t kAhead = 2;
    const int64_t ahead = kv.chunk_ahead ? kAhead : 1;
    const bool more = Kv::kPrefetch && key0 + ahead * kv.chunk <= max_pos;
    const T* kb_next = more ? kv.k + kv.Offset(c + ahead) : nullptr;
    const T* vb_next = more ? kv.v + kv.Offset(c + ahead) : nullptr;

    // Scores, three keys at a time: lane i of S[j] = scale * q_i · k_j, masked lanes
    // -FLT_MAX. Query vectors 0..3 and 4..7 are separate passes (kNa, kNb).
    constexpr int kNa = NQ < 4 ? NQ : 4, kNb = NQ - kNa;
    __m256 bmax = _mm256_set1_ps(-FLT_MAX);
    for (int j = 0; j < nk; j += 3) {
      const T* k0 = kb + j * kv_stride;  // keys past nk re-score k0 (ignored)
      const T* k1 = j + 1 < nk ? k0 + kv_stride : k0;
      const T* k2 = j + 2 < nk ? k0 + 2 * kv_stride : k0;
      if (Kv::kPrefetch && kv.chunk_ahead) {
        for (int jj = j; jj < j + 3 && jj < nk && kb_next != nullptr; ++jj) {
          for (int d = 0; d < hd; d += kLine) {
            _mm_prefetch(reinterpret_cast<const char*>(kb_next + jj * kv_stride + d), _MM_HINT_T0);
            _mm_prefetch(reinterpret_cast<const char*>(vb_next + jj * kv_stride + d), _MM_HINT_T0);
          }
        }
      } else if constexpr (Kv::kPrefetch) {
        for (int jj = j; jj < j + 3 && jj < nk; ++jj) {
          const T* kpf = jj + 3 < nk          ? kb + (jj + 3) * kv_stride
                         : kb_next != nullptr ? kb_next + (jj + 3 - nk) * kv_stride
                                              : nullptr;
          for (int d = 0; d < hd; d += kLine) {
            if (kpf != nullptr) _mm_prefetch(reinterpret_cast<const char*>(kpf + d), _MM_HINT_T0);
            _mm_prefetch(reinterpret_cast<const char*>(vb + jj * kv_stride + d), _MM_HINT_T0);
          }
        }
      }
      __m256 ra, rb;
      __m128 ra2, rb2;
      QkTriple<kNa>(q, 0, k0, k1, k2, hd8, tail, tail_mask, &ra, &ra2);
      if constexpr (kNb > 0) {
        QkTriple<kNb>(q, 4, k0, k1, k2, hd8, tail, tail_mask, &rb, &rb2);
      } else {  // lanes 4..7 are empty lanes: any finite value
        rb = ra;
        rb2 = ra2;
      }
      const __m256 s3[3] = {_mm256_permute2f128_ps(ra, rb, 0x20), _mm256_permute2f128_ps(ra, rb, 0x31),
                            _mm256_set_m128(rb2, ra2)};
      for (int jj = 0; jj < 3 && j + jj < nk; ++jj) {
        // valid: key <= pos_i (and lo_i <= key in a windowed layer)
        const int32_t key = static_cast<int32_t>(key0 + j + jj);
        __m256i valid_i = _mm256_cmpgt_epi32(vpos, _mm256_set1_epi32(key - 1));
        if (windowed) valid_i = _mm256_andnot_si256(_mm256_cmpgt_epi32(vlo, _mm256_set1_epi32(key)), valid_i);
        const __m256 valid = _mm256_castsi256_ps(valid_i);
        __m256 score = _mm256_mul_ps(s3[jj], scale);
        if (capped) score = _mm256_mul_ps(cap, simd::Tanh(_mm256_mul_ps(score, inv_cap)));
        const __m256 sj = _mm256_blendv_ps(_mm256_set1_ps(-FLT_MAX), score, valid);
        _mm256_storeu_ps(pb + (j + jj) * kLanes, sj);
        bmax = _mm256_max_ps(bmax, sj);
      }
    }

    // Online softmax update, 8 lanes at once.
    const __m256 m_new = _mm256_max_ps(m, bmax);
    const __m256 alpha = simd::Exp(_mm256_sub_ps(m, m_new));
    __m256 psum = _mm256_setzero_ps();
    for (int j = 0; j < nk; ++j) {
      const __m256 s = _mm256_loadu_ps(pb + j * kLanes);
      const __m256 valid = _mm256_cmp_ps(s, _mm256_set1_ps(-FLT_MAX), _CMP_GT_OQ);
      const __m256 pj = _mm256_and_ps(simd::Exp(_mm256_sub_ps(s, m_new)), valid);
      _mm256_storeu_ps(pb + j * kLanes, pj);
      psum = _mm256_add_ps(psum, pj);
    }
    l = _mm256_fmadd_ps(l, alpha, psum);
    m = m_new;

    // O[i] = alpha_i * O[i] + sum_j P[j][i] * v_j, 8 columns of head_dim at a time.
    alignas(32) float al[kLanes];
    _mm256_store_ps(al, alpha);
    int d = 0;
    for (; d + 24 <= hd8; d += 24) {
      PvCols<kNa, 3>(o, hd_pad, d, 0, al, vb, kv_stride, pb, nk);
      if constexpr (kNb > 0) PvCols<kNb, 3>(o, hd_pad, d, 4, al, vb, kv_stride, pb, nk);
    }
    for (; d + 16 <= hd8; d += 16) {
      PvCols<kNa, 2>(o, hd_pad, d, 0, al, vb, kv_stride, pb, nk);
      if constexpr (kNb > 0) PvCols<kNb, 2>(o, hd_pad, d, 4, al, vb, kv_stride, pb, nk);
    }
    for (; d < hd_pad; d += 8) {  // a last single column (and the masked tail)
      __m256 acc[NQ];
      for (int i = 0; i < NQ; ++i) {
        acc[i] = _mm256_mul_ps(_mm256_loadu_ps(o + i * hd_pad + d), _mm256_set1_ps(al[i]));
      }
      const bool full = d < hd8;
      for (int j = 0; j < nk; ++j) {
        const T* v = vb + j * kv_stride + d;
        const __m256 vv = full ? Load8(v) : LoadTail(v, tail, tail_mask);
        for (int i = 0; i < NQ; ++i) {
          acc[i] = _mm256_fmadd_ps(_mm256_broadcast_ss(pb + j * kLanes + i), vv, acc[i]);
        }
      }
      for (int i = 0; i < NQ; ++i) _mm256_storeu_ps(o + i * hd_pad + d, acc[i]);
    }
  }

  alignas(32) float lsum[kLanes];
  _mm256_store_ps(lsum, l);
  for (int i = 0; i < NQ; ++i) {
    // Every query attends at least to itself, so l_i > 0.
    const __m256 inv = _mm256_set1_ps(1.0f / lsum[i]);
    for (int d = 0; d < hd8; d += 8) {
      _mm256_storeu_ps(out[i] + d, _mm256_mul_ps(_mm256_loadu_ps(o + i * hd_pad + d), inv));
    }
    if (tail) {
      _mm256_maskstore_ps(out[i] + hd8, tail_mask,
                          _mm256_mul_ps(_mm256_loadu_ps(o + i * hd_pad + hd8), inv));
    }
  }
}

template <typename Kv>
void DispatchTile(const AttentionParams& p, const Tile& t, const Kv& kv, TileScratch& sc) {
  switch (t.ntok * t.nheads) {
    case 1: return RunTile<1>(p, t, kv, sc);
    case 2: return RunTile<2>(p, t, kv, sc);
    case 3: return RunTile<3>(p, t, kv, sc);
    case 4: return RunTile<4>(p, t, kv, sc);
    case 5: return RunTile<5>(p, t, kv, sc);
    case 6: return RunTile<6>(p, t, kv, sc);
    case 7: return RunTile<7>(p, t, kv, sc);
    case 8: return RunTile<8>(p, t, kv, sc);
  }
  AX_CHECK_MSG(false, "attention tile larger than 8 query vectors");
}

// Copies K and V rows [key0, n_keys) of one kv head out of the paged cache, as f32:
// pk, pv: [n_keys - key0, head_dim]. Blocks before key0 are never read (a windowed
// layer's table entries there may be released).
template <typename T>
void PackKv(const PagedKv<T>& src, int64_t key0, int64_t n_keys, int hd, float* pk, float* pv) {
  const auto row = [&](int64_t key) {  // offset of key's row from src.k / src.v
    return src.Offset(key / src.chunk) + (key % src.chunk) * src.stride;
  };
  const auto copy = [hd](const T* from, float* to) {
    if constexpr (sizeof(T) == sizeof(float)) {
      std::memcpy(to, from, hd * sizeof(float));
    } else {
      simd::WidenBf16Row(from, to, hd);
    }
  };
  for (int64_t key = key0; key < n_keys; ++key) {
    if (key + 4 < n_keys) {
      const int64_t ahead = row(key + 4);
      for (int d = 0; d < hd; d += 64 / static_cast<int>(sizeof(T))) {
        _mm_prefetch(reinterpret_cast<const char*>(src.k + ahead + d), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(src.v + ahead + d), _MM_HINT_T0);
      }
    }
    const int64_t r = row(key);
    copy(src.k + r, pk + (key - key0) * hd);
    copy(src.v + r, pv + (key - key0) * hd);
  }
}

// A decode tile on attention_wide.cpp's AVX-512 walk (REQUIRES: the tile is one token,
// the cache head-major, head_dim % 16 == 0, CpuHasAvx512Vl()).
void RunDecodeWide(const AttentionParams& p, const Tile& t, const void* k, const void* v, const int32_t* table,
                   TileScratch& sc) {
  const int64_t hd = p.head_dim;
  sc.o.resize(static_cast<size_t>(kLanes) * hd);
  sc.pb.resize(static_cast<size_t>(p.block_size) * kLanes);
  const int32_t pos = p.positions[t.t0];
  detail::DecodeTile d{p.q + (static_cast<int64_t>(t.t0) * p.n_heads + t.h0) * hd,
                       p.out + (static_cast<int64_t>(t.t0) * p.n_heads + t.h0) * hd,
                       t.nheads,
                       pos,
                       p.window > 0 ? std::max(0, pos - p.window + 1) : 0,
                       k,
                       v,
                       table,
                       p.block_size,
                       static_cast<int64_t>(p.block_size) * p.n_kv_heads * hd,
                       sc.o.data(),
                       sc.pb.data()};
  detail::DecodeTileWide(p, d);
}

template <typename T>
void RunUnit(const AttentionParams& p, const Unit& u, const std::vector<Tile>& tiles, bool wide, TileScratch& sc) {
  const Tile& first = tiles[u.tile_begin];
  const int64_t hd = p.head_dim;
  const int64_t base = KvRowOffset(p.layout, 0, first.kv_head, p.n_kv_heads, p.head_dim, p.block_size);
  const int64_t stride = p.layout == KvLayout::kHeadMajor ? hd : static_cast<int64_t>(p.n_kv_heads) * hd;
  PagedKv<T> paged{static_cast<const T*>(p.k_cache) + base,
                   static_cast<const T*>(p.v_cache) + base,
                   p.block_tables + static_cast<int64_t>(first.seq) * p.max_blocks_per_seq,
                   p.block_size,
                   stride,
                   static_cast<int64_t>(p.block_size) * p.n_kv_heads * hd,
                   p.layout == KvLayout::kHeadMajor};
  if (u.tile_end - u.tile_begin < 2) {
    for (int32_t t = u.tile_begin; t < u.tile_end; ++t) {
      if (wide && tiles[t].ntok == 1 && p.layout == KvLayout::kHeadMajor && hd % 16 == 0) {
        RunDecodeWide(p, tiles[t], paged.k, paged.v, paged.table, sc);
      } else {
        DispatchTile(p, tiles[t], paged, sc);
      }
    }
    return;
  }
  // Packed keys are walked in chunks of the cache's block size, exactly as the paged
  // path walks them: the online softmax then rescales at the same keys whichever path a
  // query row takes, so its result does not depend on the rows it is tiled with.
  // A windowed layer packs from the chunk of the unit's lowest visible key: the tiles'
  // walks start there or later, and earlier blocks may be released.
  const int64_t kChunk = p.block_size;
  const int64_t n_keys = static_cast<int64_t>(u.max_pos) + 1;
  int64_t first_chunk = 0;
  if (p.window > 0) {
    int32_t min_pos = INT32_MAX;
    for (int32_t t = u.tile_begin; t < u.tile_end; ++t)
      for (int32_t r = tiles[t].t0; r < tiles[t].t0 + tiles[t].ntok; ++r) min_pos = std::min(min_pos, p.positions[r]);
    first_chunk = std::max(0, min_pos - p.window + 1) / kChunk;
  }
  const int64_t key0 = first_chunk * kChunk;
  const size_t size = static_cast<size_t>(((n_keys + kChunk - 1) / kChunk - first_chunk) * kChunk * hd);
  if (sc.pk.size() < size) {
    sc.pk.resize(size);
    sc.pv.resize(size);
  }
  PackKv(paged, key0, n_keys, p.head_dim, sc.pk.data(), sc.pv.data());
  const PackedKv packed{sc.pk.data(), sc.pv.data(), kChunk, hd, first_chunk};
  for (int32_t t = u.tile_begin; t < u.tile_end; ++t) DispatchTile(p, tiles[t], packed, sc);
}

// REQUIRES: n_heads % n_kv_heads == 0; block_size > 0; the cache holds positions
// [0, max position of the sequence's query rows] of every sequence (KvWrite ran for all
// of this batch's rows). Query rows outside all sequences' ranges are not written.
// wide: decode tiles on the AVX-512 walk where they qualify (REQUIRES: CpuHasAvx512Vl()).
void AttentionWith(const AttentionParams& p, bool wide, ThreadPool& pool) {
  AX_CHECK(p.n_kv_heads > 0 && p.n_heads % p.n_kv_heads == 0 && p.block_size > 0);
  AX_CHECK(p.cache_dtype == DType::kF32 || p.cache_dtype == DType::kBF16);
  const int group = p.n_heads / p.n_kv_heads;
  const int hg = std::min(group, kLanes);   // query heads per tile
  const int tq = std::max(1, kLanes / hg);  // query tokens per tile
  std::vector<Tile> tiles;
  std::vector<Unit> units;
  for (int s = 0; s < p.n_seqs; ++s) {
    const int32_t end = p.seq_q_begin[s] + p.seq_q_len[s];
    for (int kvh = 0; kvh < p.n_kv_heads; ++kvh) {
      for (int h = 0; h < group; h += hg) {
        const int nh = std::min(hg, group - h);
        for (int32_t t0 = p.seq_q_begin[s]; t0 < end; t0 += tq) {
          const int32_t ntok = std::min<int32_t>(tq, end - t0);
          int32_t max_pos = 0;
          for (int32_t t = t0; t < t0 + ntok; ++t) max_pos = std::max(max_pos, p.positions[t]);
          const int64_t cost = (static_cast<int64_t>(max_pos) + 1) * (ntok * nh + 2);
          if (units.empty() || tiles.back().seq != s || tiles.back().kv_head != kvh ||
              tiles.back().h0 != kvh * group + h ||
              units.back().tile_end - units.back().tile_begin == kTilesPerUnit) {
            const int32_t at = static_cast<int32_t>(tiles.size());
            units.push_back({at, at, 0, 0});
          }
          tiles.push_back({s, t0, ntok, kvh, kvh * group + h, nh, max_pos});
          Unit& u = units.back();
          u.tile_end = static_cast<int32_t>(tiles.size());
          u.max_pos = std::max(u.max_pos, max_pos);
          u.cost += cost;
        }
      }
    }
  }
  // Most expensive first; ties keep creation order (the result does not depend on it).
  std::stable_sort(units.begin(), units.end(),
                   [](const Unit& a, const Unit& b) { return a.cost > b.cost; });
  std::atomic<size_t> next{0};
  pool.ParallelFor(pool.num_threads(), 1, [&](int64_t, int64_t) {
    static thread_local TileScratch sc;
    for (size_t i = next.fetch_add(1); i < units.size(); i = next.fetch_add(1)) {
      if (p.cache_dtype == DType::kBF16) {
        RunUnit<uint16_t>(p, units[i], tiles, wide, sc);
      } else {
        RunUnit<float>(p, units[i], tiles, wide, sc);
      }
    }
  });
}

}  // namespace

void Attention(const AttentionParams& p, ThreadPool& pool) { AttentionWith(p, detail::UseAttentionWide(), pool); }

namespace detail {

// Measured faster on the AVX-512 machine (docs/cpu-kernels.md); AX_CPU_ATTN_WIDE=0 for A/B.
bool UseAttentionWide() {
  static const bool wide = CpuHasAvx512Vl() && EnvSwitch("AX_CPU_ATTN_WIDE", true);
  return wide;
}
void AttentionAvx2(const AttentionParams& p, ThreadPool& pool) { AttentionWith(p, false, pool); }
void AttentionWide(const AttentionParams& p, ThreadPool& pool) { AttentionWith(p, true, pool); }

}  // namespace detail

}  // namespace ax::kernels::cpu
