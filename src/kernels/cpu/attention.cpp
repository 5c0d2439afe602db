// Paged causal GQA attention (contract: AttentionParams in kernels/params.h).
//
// Work unit ("tile"): one sequence, one kv head, and up to 8 query vectors that read
// that kv head — HG query heads of the group x TQ consecutive query tokens, HG*TQ <= 8
// (GQA 2: 2 heads x 4 tokens; decode: the G heads of one token). One lane of a ymm
// register per query vector, so the online softmax runs 8 query vectors at once:
//
//   for each cache block b of the sequence up to the tile's last position:
//     S[j][i]  = scale * q_i · k_j                 K row read once for all lanes i
//                (lane i masked when key j > pos_i: causal, or i is an empty lane)
//     m'       = max(m, max_j S[j])                 per lane
//     P[j]     = exp(S[j] - m'), alpha = exp(m - m'),  l = alpha*l + sum_j P[j]
//     O[i][:]  = alpha_i*O[i][:] + sum_j P[j][i] * v_j[:]   V row read once for all i
//   out_i = O[i] / l_i
//
// Tiles are sorted by cost (positions attended x lanes) and handed out from an atomic
// counter, so causal prefill (late tokens cost more) balances over the pool.
#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <cfloat>
#include <vector>

#include "base/check.h"
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
  int64_t cost;
};

// Thread-local working memory of one tile (std::vector: only 16-byte aligned, so the
// kernels use unaligned loads/stores on it).
struct TileScratch {
  std::vector<float> o;   // [8][hd8] running numerators
  std::vector<float> pb;  // [block_size][8] scores, then probabilities
};

template <int NQ>
void RunTile(const AttentionParams& p, const Tile& tile, TileScratch& sc) {
  const int hd = p.head_dim;
  const int hd8 = hd & ~7;
  const int tail = hd - hd8;
  const int hd_pad = (hd + 7) & ~7;
  const __m256i tail_mask = simd::TailMask(tail);
  const int64_t kv_stride = static_cast<int64_t>(p.n_kv_heads) * hd;  // between slots

  const float* q[NQ];
  float* out[NQ];
  alignas(32) int32_t pos[kLanes];
  int32_t max_pos = 0;
  for (int i = 0; i < kLanes; ++i) {
    if (i < NQ) {
      const int64_t t = tile.t0 + i / tile.nheads;
      const int64_t h = tile.h0 + i % tile.nheads;
      q[i] = p.q + (t * p.n_heads + h) * hd;
      out[i] = p.out + (t * p.n_heads + h) * hd;
      pos[i] = p.positions[t];
      max_pos = std::max(max_pos, pos[i]);
    } else {
      pos[i] = -1;  // empty lane: every key masked
    }
  }
  const __m256i vpos = _mm256_load_si256(reinterpret_cast<const __m256i*>(pos));

  sc.o.assign(static_cast<size_t>(kLanes) * hd_pad, 0.0f);
  sc.pb.resize(static_cast<size_t>(p.block_size) * kLanes);
  float* o = sc.o.data();
  float* pb = sc.pb.data();
  __m256 m = _mm256_set1_ps(-FLT_MAX), l = _mm256_setzero_ps();
  const __m256 scale = _mm256_set1_ps(p.scale);
  const int32_t* table = p.block_tables + static_cast<int64_t>(tile.seq) * p.max_blocks_per_seq;

  for (int64_t b = 0, key0 = 0; key0 <= max_pos; ++b, key0 += p.block_size) {
    const int nk = static_cast<int>(std::min<int64_t>(p.block_size, max_pos + 1 - key0));
    const int64_t slot0 = static_cast<int64_t>(table[b]) * p.block_size;
    const float* kb = p.k_cache + slot0 * kv_stride + static_cast<int64_t>(tile.kv_head) * hd;
    const float* vb = p.v_cache + slot0 * kv_stride + static_cast<int64_t>(tile.kv_head) * hd;

    // Scores: lane i of S[j] = scale * q_i · k_j, masked lanes -FLT_MAX.
    __m256 bmax = _mm256_set1_ps(-FLT_MAX);
    for (int j = 0; j < nk; ++j) {
      const float* k = kb + j * kv_stride;
      __m256 acc[kLanes];
      for (int i = 0; i < kLanes; ++i) acc[i] = _mm256_setzero_ps();
      for (int d = 0; d < hd8; d += 8) {
        const __m256 kv = _mm256_loadu_ps(k + d);
        for (int i = 0; i < NQ; ++i) acc[i] = _mm256_fmadd_ps(_mm256_loadu_ps(q[i] + d), kv, acc[i]);
      }
      if (tail) {
        const __m256 kv = _mm256_maskload_ps(k + hd8, tail_mask);
        for (int i = 0; i < NQ; ++i) {
          acc[i] = _mm256_fmadd_ps(_mm256_maskload_ps(q[i] + hd8, tail_mask), kv, acc[i]);
        }
      }
      const __m256 valid = _mm256_castsi256_ps(
          _mm256_cmpgt_epi32(vpos, _mm256_set1_epi32(static_cast<int32_t>(key0 + j - 1))));
      const __m256 s = _mm256_blendv_ps(_mm256_set1_ps(-FLT_MAX),
                                        _mm256_mul_ps(simd::Hsum8(acc), scale), valid);
      _mm256_storeu_ps(pb + j * kLanes, s);
      bmax = _mm256_max_ps(bmax, s);
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
    for (int d = 0; d < hd_pad; d += 8) {
      __m256 acc[NQ];
      for (int i = 0; i < NQ; ++i) {
        acc[i] = _mm256_mul_ps(_mm256_loadu_ps(o + i * hd_pad + d), _mm256_set1_ps(al[i]));
      }
      const bool full = d < hd8;
      for (int j = 0; j < nk; ++j) {
        const float* v = vb + j * kv_stride + d;
        const __m256 vv = full ? _mm256_loadu_ps(v) : _mm256_maskload_ps(v, tail_mask);
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
    // Every query attends at least to key 0 (itself or earlier), so l_i > 0.
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

void DispatchTile(const AttentionParams& p, const Tile& t, TileScratch& sc) {
  switch (t.ntok * t.nheads) {
    case 1: return RunTile<1>(p, t, sc);
    case 2: return RunTile<2>(p, t, sc);
    case 3: return RunTile<3>(p, t, sc);
    case 4: return RunTile<4>(p, t, sc);
    case 5: return RunTile<5>(p, t, sc);
    case 6: return RunTile<6>(p, t, sc);
    case 7: return RunTile<7>(p, t, sc);
    case 8: return RunTile<8>(p, t, sc);
  }
  AX_CHECK_MSG(false, "attention tile larger than 8 query vectors");
}

}  // namespace

// REQUIRES: n_heads % n_kv_heads == 0; block_size > 0; every position of a query row
// is present in its sequence's blocks (KvWrite ran first). Query rows outside all
// sequences' ranges are not written.
void Attention(const AttentionParams& p, ThreadPool& pool) {
  AX_CHECK(p.n_kv_heads > 0 && p.n_heads % p.n_kv_heads == 0 && p.block_size > 0);
  const int group = p.n_heads / p.n_kv_heads;
  const int hg = std::min(group, kLanes);   // query heads per tile
  const int tq = std::max(1, kLanes / hg);  // query tokens per tile
  std::vector<Tile> tiles;
  for (int s = 0; s < p.n_seqs; ++s) {
    for (int32_t t0 = p.seq_q_begin[s]; t0 < p.seq_q_begin[s] + p.seq_q_len[s]; t0 += tq) {
      const int32_t ntok = std::min<int32_t>(tq, p.seq_q_begin[s] + p.seq_q_len[s] - t0);
      int32_t max_pos = 0;
      for (int32_t t = t0; t < t0 + ntok; ++t) max_pos = std::max(max_pos, p.positions[t]);
      for (int kvh = 0; kvh < p.n_kv_heads; ++kvh) {
        for (int h = 0; h < group; h += hg) {
          const int nh = std::min(hg, group - h);
          tiles.push_back({s, t0, ntok, kvh, kvh * group + h, nh,
                           (static_cast<int64_t>(max_pos) + 1) * (ntok * nh + 2)});
        }
      }
    }
  }
  // Most expensive first; ties keep creation order (the result does not depend on it).
  std::stable_sort(tiles.begin(), tiles.end(),
                   [](const Tile& a, const Tile& b) { return a.cost > b.cost; });
  std::atomic<size_t> next{0};
  pool.ParallelFor(pool.num_threads(), 1, [&](int64_t, int64_t) {
    static thread_local TileScratch sc;
    for (size_t i = next.fetch_add(1); i < tiles.size(); i = next.fetch_add(1)) {
      DispatchTile(p, tiles[i], sc);
    }
  });
}

}  // namespace ax::kernels::cpu
