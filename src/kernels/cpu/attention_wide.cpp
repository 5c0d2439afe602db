// Decode attention tiles in AVX-512 (contract: attention_internal.h DecodeTileWide).
// Compiled with -mavx512f -mavx512vl (CMakeLists.txt) and called only where
// CpuHasAvx512Vl(); everything here has internal linkage and no std templates are
// instantiated (attention_internal.h says why).
//
// Why: a decode walk (one query token, the G query heads of a kv head) widens every
// bf16 K and V element it reads and feeds it to only G FMAs; in AVX2 the widening costs
// as many instructions as the FMAs, and a core ran the walk at ~22 GB/s from its caches,
// below the ~35 GB/s one core streams from DRAM. zmm registers halve both.
//
// The same bits as attention.cpp's AVX2 RunTile for the same tile: every value goes
// through the same IEEE operations in the same order.
//   q_i·k_j  8 partial sums (lane l: one FMA chain over dims l, l+8, l+16, ...), then
//            the tree ((s0+s1)+(s2+s3)) + ((s4+s5)+(s6+s7)) of simd::Hsum8. Here one
//            zmm holds the 8 partial sums of two keys (key j low, key j+1 high: the
//            dims of one key never share a lane), and the tree runs on four such
//            registers at once (Hsum4x2).
//   scores, running max, exp, sums: the same 8-lane code (simd.h), lane i = query i.
//   O[i][d]  alpha_i * O[i][d], then one FMA per key in key order: lanes are
//            independent columns, so 16 columns per zmm give the 8-column results.
// Prefetch: the chunk two ahead, as the AVX2 walk, but spread over the dot-product
// loop (one line of each of the pass's K and V rows per line of K read) instead of all
// of a pass's lines before it: a burst of 64 prefetches per 8-key pass made this walk
// slower than the AVX2 one from DRAM (0.50 vs 0.45 ms per layer at 2048 keys), spread
// it is faster (0.39 vs 0.44).
#include <immintrin.h>

#include <cfloat>

#include "base/check.h"
#include "kernels/cpu/attention_internal.h"
#include "kernels/cpu/simd.h"

// GCC 12's AVX-512 intrinsics pass an _mm512_undefined_* value to their masked builtins,
// which -Wmaybe-uninitialized reports at every use: a false positive.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace ax::kernels::cpu::detail {
namespace {

constexpr int kLanes = 8;

// Dims [0, 8) of rows a and b as f32: [a | b] (bf16 widens exactly).
inline __m512 Load2x8(const float* a, const float* b) {
  const __m512d lo = _mm512_castpd256_pd512(_mm256_castps_pd(_mm256_loadu_ps(a)));
  return _mm512_castpd_ps(_mm512_insertf64x4(lo, _mm256_castps_pd(_mm256_loadu_ps(b)), 1));
}
inline __m512 Load2x8(const uint16_t* a, const uint16_t* b) {
  const __m128i la = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a));
  const __m128i lb = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b));
  const __m256i h = _mm256_inserti128_si256(_mm256_castsi128_si256(la), lb, 1);
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}
// 16 consecutive elements as f32.
inline __m512 Load16(const float* p) { return _mm512_loadu_ps(p); }
inline __m512 Load16(const uint16_t* p) {
  const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

// _mm256_hadd_ps per 128-bit block: [a0+a1, a2+a3, b0+b1, b2+b3].
inline __m512 Hadd(__m512 a, __m512 b) {
  return _mm512_add_ps(_mm512_shuffle_ps(a, b, 0x88), _mm512_shuffle_ps(a, b, 0xDD));
}

// simd::Hsum8's tree on the two 8-lane halves of z[0..3]: lane r of blocks 0 and 1 of
// the result is the sum of z[r]'s low half, lane r of blocks 2 and 3 of its high half.
inline __m512 Hsum4x2(const __m512 z[4]) {
  const __m512 h = Hadd(Hadd(z[0], z[1]), Hadd(z[2], z[3]));
  return _mm512_add_ps(h, _mm512_shuffle_f32x4(h, h, _MM_SHUFFLE(2, 3, 0, 1)));
}

inline __m256 Low(__m512 x) { return _mm512_castps512_ps256(x); }
inline __m256 High(__m512 x) { return _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x), 1)); }

// s[r], r < 2*KP: lane i = q_i · k[r] for the tile's NQ query vectors q (rows of hd);
// lanes >= NQ hold finite values of other lanes (masked by the caller).
template <int NQ, int KP, typename T>
inline void QkKeys(const float* q, int hd, const T* const* k, const T* const* kpf, const T* const* vpf, int npf,
                   __m256* s) {
  __m512 acc[NQ][KP];
  for (int i = 0; i < NQ; ++i)
    for (int p = 0; p < KP; ++p) acc[i][p] = _mm512_setzero_ps();
  constexpr int kLineElems = 64 / sizeof(T);
  for (int d = 0; d < hd; d += 8) {
    if (d % kLineElems == 0) {  // one line of each prefetched row per line of k read
      for (int r = 0; r < npf; ++r) {
        _mm_prefetch(reinterpret_cast<const char*>(kpf[r] + d), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(vpf[r] + d), _MM_HINT_T0);
      }
    }
    __m512 kk[KP];
    for (int p = 0; p < KP; ++p) kk[p] = Load2x8(k[2 * p] + d, k[2 * p + 1] + d);
    for (int i = 0; i < NQ; ++i) {
      const __m256d qd = _mm256_castps_pd(_mm256_loadu_ps(q + i * hd + d));
      const __m512 qv = _mm512_castpd_ps(_mm512_broadcast_f64x4(qd));
      for (int p = 0; p < KP; ++p) acc[i][p] = _mm512_fmadd_ps(qv, kk[p], acc[i][p]);
    }
  }
  for (int p = 0; p < KP; ++p) {
    __m512 z[4];
    for (int r = 0; r < 4; ++r) z[r] = acc[r < NQ ? r : NQ - 1][p];
    const __m512 a = Hsum4x2(z);  // queries 0..3
    __m512 b = a;                 // queries 4..7 (empty lanes when NQ <= 4)
    if constexpr (NQ > 4) {
      for (int r = 0; r < 4; ++r) z[r] = acc[4 + r < NQ ? 4 + r : NQ - 1][p];
      b = Hsum4x2(z);
    }
    s[2 * p] = _mm256_insertf128_ps(Low(a), _mm256_castps256_ps128(Low(b)), 1);
    s[2 * p + 1] = _mm256_insertf128_ps(High(a), _mm256_castps256_ps128(High(b)), 1);
  }
}

// O[i][d, d+16*C) = al[i]*O[i][d, d+16*C) + sum_j P[j][i] * v_j[d, d+16*C), i < NQ.
template <int NQ, int C, typename T>
inline void PvCols(float* o, int hd, int d, const float* al, const T* vb, const float* pb, int nk) {
  __m512 acc[NQ][C];
  for (int i = 0; i < NQ; ++i) {
    const __m512 s = _mm512_set1_ps(al[i]);
    for (int c = 0; c < C; ++c) acc[i][c] = _mm512_mul_ps(_mm512_loadu_ps(o + i * hd + d + 16 * c), s);
  }
  for (int j = 0; j < nk; ++j) {
    __m512 v[C];
    for (int c = 0; c < C; ++c) v[c] = Load16(vb + j * hd + d + 16 * c);
    for (int i = 0; i < NQ; ++i) {
      const __m512 pj = _mm512_set1_ps(pb[j * kLanes + i]);
      for (int c = 0; c < C; ++c) acc[i][c] = _mm512_fmadd_ps(pj, v[c], acc[i][c]);
    }
  }
  for (int i = 0; i < NQ; ++i)
    for (int c = 0; c < C; ++c) _mm512_storeu_ps(o + i * hd + d + 16 * c, acc[i][c]);
}

template <int NQ, typename T>
void RunDecode(const AttentionParams& p, const DecodeTile& t) {
  constexpr int KP = NQ <= 2 ? 4 : 2;  // key pairs per dot-product pass: NQ*KP FMA chains
  constexpr int G = 2 * KP;            // keys per pass
  constexpr int C = NQ <= 4 ? 4 : 2;   // 16-column blocks per V pass
  const int hd = p.head_dim;
  const T* kbase = static_cast<const T*>(t.k);
  const T* vbase = static_cast<const T*>(t.v);

  alignas(32) int32_t pos[kLanes], lo[kLanes];
  for (int i = 0; i < kLanes; ++i) {
    pos[i] = i < NQ ? t.pos : -1;  // empty lane: every key masked
    lo[i] = i < NQ ? t.lo : 0;
  }
  const __m256i vpos = _mm256_load_si256(reinterpret_cast<const __m256i*>(pos));
  const __m256i vlo = _mm256_load_si256(reinterpret_cast<const __m256i*>(lo));
  const bool capped = p.softcap > 0, windowed = p.window > 0;
  const __m256 cap = _mm256_set1_ps(p.softcap), inv_cap = _mm256_set1_ps(capped ? 1.0f / p.softcap : 0.0f);
  const __m256 scale = _mm256_set1_ps(p.scale);
  float* o = t.o;
  float* pb = t.pb;
  for (int i = 0; i < NQ * hd; i += 16) _mm512_storeu_ps(o + i, _mm512_setzero_ps());
  __m256 m = _mm256_set1_ps(-FLT_MAX), l = _mm256_setzero_ps();

  for (int64_t c = t.lo / t.chunk, key0 = c * t.chunk; key0 <= t.pos; ++c, key0 += t.chunk) {
    const int nk = static_cast<int>(t.pos + 1 - key0 < t.chunk ? t.pos + 1 - key0 : t.chunk);
    const T* kb = kbase + static_cast<int64_t>(t.table[c]) * t.block_elems;
    const T* vb = vbase + static_cast<int64_t>(t.table[c]) * t.block_elems;
    // The chunk two ahead, key by key along this one (attention.cpp's head-major walk).
    const bool more = key0 + 2 * t.chunk <= t.pos;
    const T* kb_next = more ? kbase + static_cast<int64_t>(t.table[c + 2]) * t.block_elems : nullptr;
    const T* vb_next = more ? vbase + static_cast<int64_t>(t.table[c + 2]) * t.block_elems : nullptr;

    __m256 bmax = _mm256_set1_ps(-FLT_MAX);
    for (int j = 0; j < nk; j += G) {
      const T* k[G];
      const T* kpf[G];
      const T* vpf[G];
      int npf = 0;
      for (int r = 0; r < G; ++r) {
        k[r] = kb + (j + r < nk ? j + r : j) * hd;  // past nk: re-score key j (ignored)
        if (more && j + r < nk) {
          kpf[npf] = kb_next + (j + r) * hd;
          vpf[npf++] = vb_next + (j + r) * hd;
        }
      }
      __m256 s[G];
      QkKeys<NQ, KP>(t.q, hd, k, kpf, vpf, npf, s);
      for (int r = 0; r < G && j + r < nk; ++r) {
        const int32_t key = static_cast<int32_t>(key0 + j + r);
        __m256i valid_i = _mm256_cmpgt_epi32(vpos, _mm256_set1_epi32(key - 1));
        if (windowed) valid_i = _mm256_andnot_si256(_mm256_cmpgt_epi32(vlo, _mm256_set1_epi32(key)), valid_i);
        const __m256 valid = _mm256_castsi256_ps(valid_i);
        __m256 score = _mm256_mul_ps(s[r], scale);
        if (capped) score = _mm256_mul_ps(cap, simd::Tanh(_mm256_mul_ps(score, inv_cap)));
        const __m256 sj = _mm256_blendv_ps(_mm256_set1_ps(-FLT_MAX), score, valid);
        _mm256_storeu_ps(pb + (j + r) * kLanes, sj);
        bmax = _mm256_max_ps(bmax, sj);
      }
    }

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

    alignas(32) float al[kLanes];
    _mm256_store_ps(al, alpha);
    int d = 0;
    for (; d + 16 * C <= hd; d += 16 * C) PvCols<NQ, C>(o, hd, d, al, vb, pb, nk);
    for (; d < hd; d += 16) PvCols<NQ, 1>(o, hd, d, al, vb, pb, nk);
  }

  alignas(32) float lsum[kLanes];
  _mm256_store_ps(lsum, l);
  for (int i = 0; i < NQ; ++i) {
    const __m512 inv = _mm512_set1_ps(1.0f / lsum[i]);  // every query sees itself: l > 0
    for (int d = 0; d < hd; d += 16) {
      _mm512_storeu_ps(t.out + i * hd + d, _mm512_mul_ps(_mm512_loadu_ps(o + i * hd + d), inv));
    }
  }
}

template <typename T>
void Dispatch(const AttentionParams& p, const DecodeTile& t) {
  switch (t.nq) {
    case 1: return RunDecode<1, T>(p, t);
    case 2: return RunDecode<2, T>(p, t);
    case 3: return RunDecode<3, T>(p, t);
    case 4: return RunDecode<4, T>(p, t);
    case 5: return RunDecode<5, T>(p, t);
    case 6: return RunDecode<6, T>(p, t);
    case 7: return RunDecode<7, T>(p, t);
    case 8: return RunDecode<8, T>(p, t);
  }
  AX_CHECK_MSG(false, "decode tile of more than 8 query heads");
}

}  // namespace

void DecodeTileWide(const AttentionParams& p, const DecodeTile& t) {
  AX_CHECK(p.head_dim % 16 == 0);
  if (p.cache_dtype == DType::kBF16) {
    Dispatch<uint16_t>(p, t);
  } else {
    Dispatch<float>(p, t);
  }
}

}  // namespace ax::kernels::cpu::detail
