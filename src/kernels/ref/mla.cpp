// Multi-head latent attention and its cache write, scalar reference (contract:
// MlaParams and LatentWriteParams in kernels/params.h). f64 accumulation throughout.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/ref/ref.h"

namespace ax::kernels::ref {
namespace {

double LoadCache(const void* cache, DType dtype, int64_t i) {
  return dtype == DType::kBF16 ? Bf16ToF32(static_cast<const uint16_t*>(cache)[i])
                               : static_cast<const float*>(cache)[i];
}

}  // namespace

void LatentWrite(const LatentWriteParams& p) {
  const int64_t row = int64_t{p.latent_dim} + p.rope_dim;
  for (int64_t t = 0; t < p.n_tokens; ++t) {
    const int64_t slot = p.slot_mapping[t];
    if (slot < 0) continue;
    for (int64_t i = 0; i < row; ++i) {
      const float x = i < p.latent_dim ? p.latent[t * p.latent_dim + i] : p.rope[t * p.rope_dim + i - p.latent_dim];
      if (p.cache_dtype == DType::kBF16) {
        static_cast<uint16_t*>(p.cache)[slot * row + i] = F32ToBf16(x);
      } else {
        static_cast<float*>(p.cache)[slot * row + i] = x;
      }
    }
  }
}

void Mla(const MlaParams& p) {
  const int64_t L = p.latent_dim, R = p.rope_dim, N = p.nope_dim, V = p.v_dim, row = p.row_dim();
  const int64_t qd = R + N;
  std::vector<double> q_lat(static_cast<size_t>(L)), o_lat(static_cast<size_t>(L)), scores;
  for (int s = 0; s < p.n_seqs; ++s) {
    const int32_t* table = p.block_tables + static_cast<int64_t>(s) * p.max_blocks_per_seq;
    for (int32_t t = p.seq_q_begin[s]; t < p.seq_q_begin[s] + p.seq_q_len[s]; ++t) {
      const int64_t n_keys = static_cast<int64_t>(p.positions[t]) + 1;
      for (int h = 0; h < p.n_heads; ++h) {
        const float* q = p.q + (static_cast<int64_t>(t) * p.n_heads + h) * qd;  // rope | nope
        const float* w_uk = p.kv_b + static_cast<int64_t>(h) * (N + V) * L;     // [N, L]
        const float* w_uv = w_uk + N * L;                                       // [V, L]
        std::fill(q_lat.begin(), q_lat.end(), 0.0);
        for (int64_t i = 0; i < N; ++i)
          for (int64_t c = 0; c < L; ++c) q_lat[c] += static_cast<double>(q[R + i]) * w_uk[i * L + c];
        scores.assign(static_cast<size_t>(n_keys), 0.0);
        double mx = -INFINITY;
        for (int64_t j = 0; j < n_keys; ++j) {
          const int64_t slot = static_cast<int64_t>(table[j / p.block_size]) * p.block_size + j % p.block_size;
          double dot = 0.0;
          for (int64_t c = 0; c < L; ++c) dot += q_lat[c] * LoadCache(p.cache, p.cache_dtype, slot * row + c);
          for (int64_t c = 0; c < R; ++c) dot += q[c] * LoadCache(p.cache, p.cache_dtype, slot * row + L + c);
          scores[j] = dot * p.scale;
          mx = std::max(mx, scores[j]);
        }
        double sum = 0.0;
        for (double& x : scores) sum += (x = std::exp(x - mx));
        std::fill(o_lat.begin(), o_lat.end(), 0.0);
        for (int64_t j = 0; j < n_keys; ++j) {
          const int64_t slot = static_cast<int64_t>(table[j / p.block_size]) * p.block_size + j % p.block_size;
          for (int64_t c = 0; c < L; ++c) o_lat[c] += scores[j] * LoadCache(p.cache, p.cache_dtype, slot * row + c);
        }
        float* out = p.out + (static_cast<int64_t>(t) * p.n_heads + h) * V;
        for (int64_t v = 0; v < V; ++v) {
          double acc = 0.0;
          for (int64_t c = 0; c < L; ++c) acc += o_lat[c] * w_uv[v * L + c];
          out[v] = static_cast<float>(acc / sum);
        }
      }
    }
  }
}

}  // namespace ax::kernels::ref
