// GatedDelta linear attention on AVX2/FMA (kernels/params.h GatedDeltaParams), per
// sequence of the batch, in batch order:
//   1. the causal conv + SiLU of every row, channels split across the pool, into
//      p.scratch [rows, conv_dim] (token by token, each channel sliding its conv state);
//   2. q and k L2-normed per row and k head;
//   3. the delta rule, v heads split across the pool: per row, per 8 value columns j,
//        kv   = S[:, j]ᵀ k                       (old state)
//        δ    = β (v_j - e^g kv)
//        S[:, j] = e^g S[:, j] + k δ, o_j = S[:, j]ᵀ q
//      two passes over a [dk, 8] column block of S that stays in L1; then the gated
//      RMSNorm of o with silu(z).
// A head's numbers do not depend on the thread split or on the other sequences, so
// rows are batch-invariant. Same math as kernels/ref (tested against it; f32 sums).
#include <immintrin.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/cpu/cpu.h"

namespace ax::kernels::cpu {
namespace {

float Silu(float x) { return x / (1.0f + std::exp(-x)); }
float Softplus(float x) { return x > 20.0f ? x : std::log1p(std::exp(x)); }

// Channels [c0, c1) of the causal conv + SiLU for the sequence's rows, token by token
// (each row's inputs and outputs contiguous: a long prompt chunk streams its rows), each
// channel sliding its K - 1 inputs in the slot's conv state cs. ckpt: the sequence's
// first checkpoint (null: none kept), checkpoints C * (K - 1) apart.
void ConvChannels(const GatedDeltaParams& p, int64_t begin, int64_t n, float* cs, float* ckpt, int64_t c0, int64_t c1) {
  const int K = p.kernel;
  const int64_t C = p.conv_dim();
  for (int64_t t = begin; t < begin + n; ++t) {
    const float* x = p.proj + t * p.proj_stride;
    float* out = p.scratch + t * C;
    for (int64_t ch = c0; ch < c1; ++ch) {
      const float* w = p.conv_w + ch * K;
      float* hist = cs + ch * (K - 1);  // the K - 1 previous inputs, oldest first
      float acc = w[K - 1] * x[ch];
      for (int j = 0; j < K - 1; ++j) acc += w[j] * hist[j];
      for (int j = 0; j + 1 < K - 1; ++j) hist[j] = hist[j + 1];
      if (K > 1) hist[K - 2] = x[ch];
      out[ch] = Silu(acc);
    }
    if (ckpt != nullptr && t + 1 < begin + n)
      std::memcpy(ckpt + (t - begin) * C * (K - 1) + c0 * (K - 1), cs + c0 * (K - 1),
                  sizeof(float) * static_cast<size_t>((c1 - c0) * (K - 1)));
  }
}

void L2Norm(float* x, int n, float scale) {
  float ss = 0;
  for (int i = 0; i < n; ++i) ss += x[i] * x[i];
  const float inv = scale / std::sqrt(ss + 1e-6f);
  for (int i = 0; i < n; ++i) x[i] *= inv;
}

// One v head of one row: S [dk, dv] updated, o [dv] = Sᵀ q.
void DeltaStep(float* S, const float* q, const float* k, const float* v, float decay, float beta, int dk, int dv,
               float* o) {
  const __m256 vdecay = _mm256_set1_ps(decay), vbeta = _mm256_set1_ps(beta);
  int j = 0;
  for (; j + 8 <= dv; j += 8) {
    __m256 acc = _mm256_setzero_ps();
    for (int i = 0; i < dk; ++i) acc = _mm256_fmadd_ps(_mm256_loadu_ps(S + i * dv + j), _mm256_set1_ps(k[i]), acc);
    const __m256 delta = _mm256_mul_ps(_mm256_fnmadd_ps(vdecay, acc, _mm256_loadu_ps(v + j)), vbeta);
    __m256 out = _mm256_setzero_ps();
    for (int i = 0; i < dk; ++i) {
      float* s = S + i * dv + j;
      const __m256 nv = _mm256_fmadd_ps(_mm256_set1_ps(k[i]), delta, _mm256_mul_ps(vdecay, _mm256_loadu_ps(s)));
      _mm256_storeu_ps(s, nv);
      out = _mm256_fmadd_ps(nv, _mm256_set1_ps(q[i]), out);
    }
    _mm256_storeu_ps(o + j, out);
  }
  for (; j < dv; ++j) {
    float acc = 0;
    for (int i = 0; i < dk; ++i) acc += S[i * dv + j] * k[i];
    const float delta = (v[j] - decay * acc) * beta;
    float out = 0;
    for (int i = 0; i < dk; ++i) {
      float& s = S[i * dv + j];
      s = decay * s + k[i] * delta;
      out += s * q[i];
    }
    o[j] = out;
  }
}

// ckpt: the sequence's first checkpoint (null: none kept), checkpoints Hv * dk * dv apart.
void Heads(const GatedDeltaParams& p, int64_t begin, int64_t n, float* S, float* ckpt, int64_t h0, int64_t h1) {
  const int Hk = p.n_k_heads, Hv = p.n_v_heads, dk = p.dk, dv = p.dv, rep = Hv / Hk;
  const int64_t C = p.conv_dim();
  std::vector<float> o(static_cast<size_t>(dv));
  for (int64_t t = begin; t < begin + n; ++t) {
    const float* c = p.scratch + t * C;
    const float* x = p.proj + t * p.proj_stride;
    for (int64_t h = h0; h < h1; ++h) {
      const float* q = c + (h / rep) * dk;
      const float* k = c + int64_t{Hk} * dk + (h / rep) * dk;
      const float* v = c + int64_t{2} * Hk * dk + h * dv;
      const float beta = 1.0f / (1.0f + std::exp(-x[p.b_off + h]));
      const float decay = std::exp(-std::exp(p.a_log[h]) * Softplus(x[p.a_off + h] + p.dt_bias[h]));
      DeltaStep(S + h * dk * dv, q, k, v, decay, beta, dk, dv, o.data());
      float ms = 0;
      for (int j = 0; j < dv; ++j) ms += o[static_cast<size_t>(j)] * o[static_cast<size_t>(j)];
      const float inv = 1.0f / std::sqrt(ms / static_cast<float>(dv) + p.norm_eps);
      const float* z = x + p.z_off + h * dv;
      float* out = p.out + t * (int64_t{Hv} * dv) + h * dv;
      for (int j = 0; j < dv; ++j) out[j] = o[static_cast<size_t>(j)] * inv * p.norm_w[j] * Silu(z[j]);
      if (ckpt != nullptr && t + 1 < begin + n)
        std::memcpy(ckpt + (t - begin) * Hv * dk * dv + h * dk * dv, S + h * dk * dv,
                    sizeof(float) * static_cast<size_t>(dk * dv));
    }
  }
}

}  // namespace

void GatedDelta(const GatedDeltaParams& p, ThreadPool& pool) {
  const int64_t C = p.conv_dim();
  const int Hk = p.n_k_heads, Hv = p.n_v_heads, dk = p.dk, dv = p.dv, K = p.kernel;
  const size_t conv_per_slot = static_cast<size_t>(C) * static_cast<size_t>(K - 1);
  const size_t state_per_slot = static_cast<size_t>(Hv) * dk * dv;
  for (int s = 0; s < p.n_seqs; ++s) {
    float* cs = p.conv_state + static_cast<size_t>(p.slots[s]) * conv_per_slot;
    float* S = p.state + static_cast<size_t>(p.slots[s]) * state_per_slot;
    const int64_t begin = p.seq_q_begin[s], n = p.seq_q_len[s];
    if (n <= 0) continue;
    if (p.positions[begin] == 0) {
      std::memset(cs, 0, conv_per_slot * sizeof(float));
      std::memset(S, 0, state_per_slot * sizeof(float));
    }
    const bool keep = p.keep_rows != nullptr && p.keep_rows[s] != 0;
    const size_t first_ckpt = static_cast<size_t>(p.slots[s]) * static_cast<size_t>(p.n_checkpoints);
    float* conv_ckpt = keep ? p.conv_ckpt + first_ckpt * conv_per_slot : nullptr;
    float* state_ckpt = keep ? p.state_ckpt + first_ckpt * state_per_slot : nullptr;
    const int64_t conv_grain = std::max<int64_t>(256, 16384 / std::max<int64_t>(1, n * K));
    pool.ParallelFor(C, conv_grain, [&](int64_t c0, int64_t c1) { ConvChannels(p, begin, n, cs, conv_ckpt, c0, c1); });
    for (int64_t t = begin; t < begin + n; ++t) {
      float* c = p.scratch + t * C;
      for (int h = 0; h < Hk; ++h) {
        L2Norm(c + h * dk, dk, 1.0f / std::sqrt(static_cast<float>(dk)));
        L2Norm(c + int64_t{Hk} * dk + h * dk, dk, 1.0f);
      }
    }
    // A head's row costs ~4 dk dv flops: split heads so a chunk has ~32K of them.
    const int64_t head_grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(1, n * 4 * dk * dv));
    pool.ParallelFor(Hv, head_grain, [&](int64_t h0, int64_t h1) { Heads(p, begin, n, S, state_ckpt, h0, h1); });
  }
}

void SigmoidMul(const SigmoidMulParams& p, ThreadPool& pool) {
  const int64_t per = p.d / p.g, stride = p.gate_stride > 0 ? p.gate_stride : p.g;
  pool.ParallelFor(p.m, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, p.d)), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r)
      for (int64_t j = 0; j < p.d; ++j) p.x[r * p.d + j] /= 1.0f + std::exp(-p.gate[r * stride + j / per]);
  });
}

}  // namespace ax::kernels::cpu
