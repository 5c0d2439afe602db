// Multi-head latent attention on AVX2/FMA (contract: MlaParams in kernels/params.h).
//
// One task per (query row, head), spread over the pool; a task runs alone and in a
// fixed order, so a row's bits do not depend on the batch, the thread count or
// whether it is a prompt or a generated row:
//   1. q_lat = W_UK[h]^T q_nope        nope_dim axpys of latent_dim (8 lanes, then a tail)
//   2. per key j in [0, p]: s_j = scale * (q_lat . c_j + q_rope . kr_j), read from the
//      latent cache row (bf16 widened exactly, or f32), 4 accumulators per dot
//   3. softmax over s (f32, max first, sums in key order)
//   4. o_lat = sum_j e_j c_j            one axpy per key
//   5. out[v] = (W_UV[h][v] . o_lat) / sum e
// Every head of a row reads the row's keys (MLA's cache is shared by all heads): the
// cache rows of a short context stay in L2 between the heads' tasks.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/cpu/cpu.h"
#include "kernels/cpu/simd.h"

namespace ax::kernels::cpu {
namespace {

// y[0:n] += a * x[0:n] for an f32 or bf16 x.
template <bool kBf16>
void Axpy(float a, const void* x, float* y, int64_t n) {
  const __m256 va = _mm256_set1_ps(a);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 xv = kBf16 ? simd::LoadBf16x8(static_cast<const uint16_t*>(x) + i)
                            : _mm256_loadu_ps(static_cast<const float*>(x) + i);
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, xv, _mm256_loadu_ps(y + i)));
  }
  for (; i < n; ++i) {
    const float xv = kBf16 ? Bf16ToF32(static_cast<const uint16_t*>(x)[i]) : static_cast<const float*>(x)[i];
    y[i] += a * xv;
  }
}

// a[0:n] . x[0:n] for an f32 or bf16 x: 4 x 8 lanes, reduced in a fixed order, then a tail.
template <bool kBf16>
float Dot(const float* a, const void* x, int64_t n) {
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  const auto load = [&](int64_t i) {
    return kBf16 ? simd::LoadBf16x8(static_cast<const uint16_t*>(x) + i)
                 : _mm256_loadu_ps(static_cast<const float*>(x) + i);
  };
  int64_t i = 0;
  for (; i + 32 <= n; i += 32)
    for (int u = 0; u < 4; ++u) acc[u] = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8 * u), load(i + 8 * u), acc[u]);
  for (; i + 8 <= n; i += 8) acc[0] = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), load(i), acc[0]);
  float s = simd::Hsum(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
  for (; i < n; ++i) {
    const float xv = kBf16 ? Bf16ToF32(static_cast<const uint16_t*>(x)[i]) : static_cast<const float*>(x)[i];
    s += a[i] * xv;
  }
  return s;
}

struct Scratch {
  std::vector<float> q_lat, o_lat, scores;
};

// Row t (sequence table `table`), head h.
template <bool kBf16>
void Task(const MlaParams& p, int32_t t, const int32_t* table, int h, Scratch* sc) {
  const int64_t L = p.latent_dim, R = p.rope_dim, N = p.nope_dim, V = p.v_dim, row = p.row_dim();
  const size_t elem = kBf16 ? 2 : 4;
  const auto* cache = static_cast<const char*>(p.cache);
  const float* q = p.q + (static_cast<int64_t>(t) * p.n_heads + h) * (R + N);  // rope | nope
  const float* w_uk = p.kv_b + static_cast<int64_t>(h) * (N + V) * L;          // [N, L]
  const float* w_uv = w_uk + N * L;                                            // [V, L]
  sc->q_lat.assign(static_cast<size_t>(L), 0.0f);
  for (int64_t i = 0; i < N; ++i) Axpy<false>(q[R + i], w_uk + i * L, sc->q_lat.data(), L);
  const int64_t n_keys = static_cast<int64_t>(p.positions[t]) + 1;
  sc->scores.resize(static_cast<size_t>(n_keys));
  float mx = -INFINITY;
  for (int64_t j = 0; j < n_keys; ++j) {
    const int64_t slot = static_cast<int64_t>(table[j / p.block_size]) * p.block_size + j % p.block_size;
    const char* key = cache + static_cast<size_t>(slot * row) * elem;
    const float s = (Dot<kBf16>(sc->q_lat.data(), key, L) + Dot<kBf16>(q, key + L * elem, R)) * p.scale;
    sc->scores[j] = s;
    mx = std::max(mx, s);
  }
  float sum = 0.0f;
  for (float& s : sc->scores) sum += (s = std::exp(s - mx));
  sc->o_lat.assign(static_cast<size_t>(L), 0.0f);
  for (int64_t j = 0; j < n_keys; ++j) {
    const int64_t slot = static_cast<int64_t>(table[j / p.block_size]) * p.block_size + j % p.block_size;
    Axpy<kBf16>(sc->scores[j], cache + static_cast<size_t>(slot * row) * elem, sc->o_lat.data(), L);
  }
  float* out = p.out + (static_cast<int64_t>(t) * p.n_heads + h) * V;
  const float inv = 1.0f / sum;
  for (int64_t v = 0; v < V; ++v) out[v] = Dot<false>(sc->o_lat.data(), w_uv + v * L, L) * inv;
}

}  // namespace

void Mla(const MlaParams& p, ThreadPool& pool) {
  // (row, sequence) of every query row, so a task index names its row and head.
  std::vector<std::pair<int32_t, int>> rows;
  for (int s = 0; s < p.n_seqs; ++s)
    for (int32_t t = p.seq_q_begin[s]; t < p.seq_q_begin[s] + p.seq_q_len[s]; ++t) rows.emplace_back(t, s);
  const int64_t tasks = static_cast<int64_t>(rows.size()) * p.n_heads;
  pool.ParallelFor(tasks, 1, [&](int64_t begin, int64_t end) {
    Scratch sc;
    for (int64_t i = begin; i < end; ++i) {
      const auto [t, s] = rows[static_cast<size_t>(i / p.n_heads)];
      const int32_t* table = p.block_tables + static_cast<int64_t>(s) * p.max_blocks_per_seq;
      const int h = static_cast<int>(i % p.n_heads);
      if (p.cache_dtype == DType::kBF16) {
        Task<true>(p, t, table, h, &sc);
      } else {
        Task<false>(p, t, table, h, &sc);
      }
    }
  });
}

}  // namespace ax::kernels::cpu
