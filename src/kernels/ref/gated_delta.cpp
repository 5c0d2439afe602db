// Scalar reference of the GatedDelta linear-attention layer (kernels/params.h
// GatedDeltaParams): the token-by-token recurrence, f32 state, f64 dot products.
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/ref/ref.h"

namespace ax::kernels::ref {
namespace {

double Silu(double x) { return x / (1.0 + std::exp(-x)); }
// torch.nn.functional.softplus (beta 1, threshold 20).
double Softplus(double x) { return x > 20.0 ? x : std::log1p(std::exp(x)); }

// c [conv_dim] = silu(conv) of row x, sliding the sequence's conv state.
void ConvRow(const GatedDeltaParams& p, const float* x, float* cs, float* c) {
  const int64_t C = p.conv_dim();
  const int K = p.kernel;
  for (int64_t ch = 0; ch < C; ++ch) {
    const float* w = p.conv_w + ch * K;
    float* hist = cs + ch * (K - 1);  // the K - 1 previous inputs, oldest first
    double acc = static_cast<double>(w[K - 1]) * x[ch];
    for (int j = 0; j < K - 1; ++j) acc += static_cast<double>(w[j]) * hist[j];
    for (int j = 0; j + 1 < K - 1; ++j) hist[j] = hist[j + 1];
    if (K > 1) hist[K - 2] = x[ch];
    c[ch] = static_cast<float>(Silu(acc));
  }
}

// x[n] /= sqrt(sum x^2 + 1e-6), times `scale`.
void L2Norm(float* x, int n, double scale) {
  double ss = 0;
  for (int i = 0; i < n; ++i) ss += static_cast<double>(x[i]) * x[i];
  const double inv = scale / std::sqrt(ss + 1e-6);
  for (int i = 0; i < n; ++i) x[i] = static_cast<float>(x[i] * inv);
}

}  // namespace

void GatedDelta(const GatedDeltaParams& p) {
  const int64_t C = p.conv_dim();
  const int Hk = p.n_k_heads, Hv = p.n_v_heads, dk = p.dk, dv = p.dv, K = p.kernel;
  const int rep = Hv / Hk;
  const size_t conv_per_slot = static_cast<size_t>(C) * static_cast<size_t>(K - 1);
  const size_t state_per_slot = static_cast<size_t>(Hv) * dk * dv;
  std::vector<float> c(static_cast<size_t>(C));
  std::vector<double> delta(static_cast<size_t>(dv)), o(static_cast<size_t>(dv));
  for (int s = 0; s < p.n_seqs; ++s) {
    float* cs = p.conv_state + static_cast<size_t>(p.slots[s]) * conv_per_slot;
    float* S = p.state + static_cast<size_t>(p.slots[s]) * state_per_slot;
    const int64_t begin = p.seq_q_begin[s], n = p.seq_q_len[s];
    if (n > 0 && p.positions[begin] == 0) {
      std::memset(cs, 0, conv_per_slot * sizeof(float));
      std::memset(S, 0, state_per_slot * sizeof(float));
    }
    const bool keep = p.keep_rows != nullptr && p.keep_rows[s] != 0;
    for (int64_t t = begin; t < begin + n; ++t) {
      const float* x = p.proj + t * p.proj_stride;
      ConvRow(p, x, cs, c.data());
      if (keep && t + 1 < begin + n) {
        const size_t ck = static_cast<size_t>(p.slots[s]) * p.n_checkpoints + static_cast<size_t>(t - begin);
        std::memcpy(p.conv_ckpt + ck * conv_per_slot, cs, conv_per_slot * sizeof(float));
      }
      for (int h = 0; h < Hk; ++h) {
        L2Norm(c.data() + h * dk, dk, 1.0 / std::sqrt(static_cast<double>(dk)));
        L2Norm(c.data() + static_cast<int64_t>(Hk) * dk + h * dk, dk, 1.0);
      }
      for (int h = 0; h < Hv; ++h) {
        const float* q = c.data() + (h / rep) * dk;
        const float* k = c.data() + static_cast<int64_t>(Hk) * dk + (h / rep) * dk;
        const float* v = c.data() + int64_t{2} * Hk * dk + static_cast<int64_t>(h) * dv;
        const double beta = 1.0 / (1.0 + std::exp(-static_cast<double>(x[p.b_off + h])));
        const double g =
            -std::exp(static_cast<double>(p.a_log[h])) * Softplus(static_cast<double>(x[p.a_off + h]) + p.dt_bias[h]);
        const float decay = static_cast<float>(std::exp(g));
        float* Sh = S + static_cast<size_t>(h) * dk * dv;
        for (int64_t i = 0; i < int64_t{dk} * dv; ++i) Sh[i] *= decay;
        for (int j = 0; j < dv; ++j) {
          double kv = 0;
          for (int i = 0; i < dk; ++i) kv += static_cast<double>(Sh[i * dv + j]) * k[i];
          delta[static_cast<size_t>(j)] = (v[j] - kv) * beta;
        }
        for (int i = 0; i < dk; ++i)
          for (int j = 0; j < dv; ++j)
            Sh[i * dv + j] = static_cast<float>(Sh[i * dv + j] + k[i] * delta[static_cast<size_t>(j)]);
        double ms = 0;
        for (int j = 0; j < dv; ++j) {
          double acc = 0;
          for (int i = 0; i < dk; ++i) acc += static_cast<double>(Sh[i * dv + j]) * q[i];
          o[static_cast<size_t>(j)] = acc;
          ms += acc * acc;
        }
        const double inv = 1.0 / std::sqrt(ms / dv + p.norm_eps);
        const float* z = x + p.z_off + static_cast<int64_t>(h) * dv;
        float* out = p.out + t * (static_cast<int64_t>(Hv) * dv) + static_cast<int64_t>(h) * dv;
        for (int j = 0; j < dv; ++j)
          out[j] = static_cast<float>(o[static_cast<size_t>(j)] * inv * p.norm_w[j] * Silu(z[j]));
      }
      if (keep && t + 1 < begin + n) {
        const size_t ck = static_cast<size_t>(p.slots[s]) * p.n_checkpoints + static_cast<size_t>(t - begin);
        std::memcpy(p.state_ckpt + ck * state_per_slot, S, state_per_slot * sizeof(float));
      }
    }
  }
}

void SigmoidMul(const SigmoidMulParams& p) {
  const int64_t per = p.d / p.g, stride = p.gate_stride > 0 ? p.gate_stride : p.g;
  for (int64_t r = 0; r < p.m; ++r)
    for (int64_t j = 0; j < p.d; ++j) {
      const double g = p.gate[r * stride + j / per];
      p.x[r * p.d + j] = static_cast<float>(p.x[r * p.d + j] / (1.0 + std::exp(-g)));
    }
}

}  // namespace ax::kernels::ref
