// Scalar reference kernels (see ref.h). Plain loops, f64 accumulation for dot products,
// norms and softmax; written to be read, not to be fast.
#include "kernels/ref/ref.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "tensor/quant.h"

namespace ax::kernels::ref {
namespace {

double Silu(double g) { return g / (1.0 + std::exp(-g)); }
double GeluTanh(double g) {
  const double kSqrt2OverPi = 0.7978845608028654;
  return 0.5 * g * (1.0 + std::tanh(kSqrt2OverPi * (g + 0.044715 * g * g * g)));
}

}  // namespace

void Matmul(const MatmulParams& p) {
  const int64_t ldx = p.ldx ? p.ldx : p.k;
  const int64_t ldy = p.ldy ? p.ldy : p.n;
  std::vector<float> w(static_cast<size_t>(p.k));
  for (int64_t j = 0; j < p.n; ++j) {
    WeightRowToF32(p.w, p.w_dtype, p.wq, j, p.k, w.data());
    for (int64_t i = 0; i < p.m; ++i) {
      double acc = 0.0;
      for (int64_t kk = 0; kk < p.k; ++kk) acc += static_cast<double>(p.x[i * ldx + kk]) * w[kk];
      float* y = &p.y[i * ldy + j];
      *y = p.accumulate ? static_cast<float>(*y + acc) : static_cast<float>(acc);
    }
  }
}

void RmsNorm(const RmsNormParams& p) {
  for (int64_t i = 0; i < p.m; ++i) {
    const float* x = p.x + i * p.d;
    float* y = p.y + i * p.d;
    const float* src = x;
    if (p.residual != nullptr) {
      float* r = p.residual + i * p.d;
      for (int64_t j = 0; j < p.d; ++j) r[j] += x[j];
      src = r;
    }
    double ss = 0.0;
    for (int64_t j = 0; j < p.d; ++j) ss += static_cast<double>(src[j]) * src[j];
    const double inv = 1.0 / std::sqrt(ss / static_cast<double>(p.d) + p.eps);
    for (int64_t j = 0; j < p.d; ++j) y[j] = static_cast<float>(src[j] * inv * p.w[j]);
  }
}

// The angle is formed in f32 (float(pos) * inv_freq, one rounding) as Hugging Face does,
// then cos/sin are taken in f64. kernels/cpu uses the same angle.
void Rope(const RopeParams& p) {
  const int half = p.rot_dim / 2;
  for (int64_t t = 0; t < p.n_tokens; ++t) {
    for (int i = 0; i < half; ++i) {
      const float angle = static_cast<float>(p.positions[t]) * p.inv_freq[i];
      const double c = std::cos(static_cast<double>(angle));
      const double s = std::sin(static_cast<double>(angle));
      for (int h = 0; h < p.n_heads; ++h) {
        float* x = p.x + (t * p.n_heads + h) * p.head_dim;
        const double a = x[i], b = x[i + half];
        x[i] = static_cast<float>(a * c - b * s);
        x[i + half] = static_cast<float>(b * c + a * s);
      }
    }
  }
}

void GatedAct(const GatedActParams& p) {
  for (int64_t i = 0; i < p.m; ++i) {
    const float* g = p.gate_up + i * (p.up ? p.gate_stride : 2 * p.f);
    const float* u = p.up ? p.up + i * p.up_stride : g + p.f;
    for (int64_t j = 0; j < p.f; ++j) {
      const double a = p.act == GateAct::kSilu ? Silu(g[j]) : GeluTanh(g[j]);
      p.out[i * p.f + j] = static_cast<float>(a * u[j]);
    }
  }
}

void Softcap(const SoftcapParams& p) {
  for (int64_t i = 0; i < p.n; ++i) p.x[i] = static_cast<float>(p.cap * std::tanh(double{p.x[i]} / p.cap));
}

void Add(const AddParams& p) {
  for (int64_t i = 0; i < p.n; ++i) p.y[i] += p.x[i];
}

void Scale(const ScaleParams& p) {
  for (int64_t i = 0; i < p.n; ++i) p.x[i] *= p.s;
}

namespace {

// The noaux_tc choice (RouteParams' choice_bias): order[0..k) = the k best biased
// scores b of the topk_group best groups, best first, lowest id on ties.
void ChooseGrouped(const RouteParams& p, const std::vector<double>& b, std::vector<int>* order) {
  const int E = p.num_experts, G = p.n_group, per = E / G;
  std::vector<double> group_score(static_cast<size_t>(G));
  for (int g = 0; g < G; ++g) {
    double best = -INFINITY, second = -INFINITY;
    for (int e = g * per; e < (g + 1) * per; ++e) {
      if (b[e] > best) {
        second = best;
        best = b[e];
      } else if (b[e] > second) {
        second = b[e];
      }
    }
    group_score[g] = per > 1 ? best + second : best;
  }
  std::vector<int> groups(static_cast<size_t>(G));
  for (int g = 0; g < G; ++g) groups[g] = g;
  std::stable_sort(groups.begin(), groups.end(), [&](int x, int y) { return group_score[x] > group_score[y]; });
  std::vector<bool> allowed(static_cast<size_t>(G), false);
  for (int i = 0; i < p.topk_group; ++i) allowed[groups[i]] = true;
  // The choice's score of each expert: b in a kept group; else excluded, or 0 (masked_zero).
  const auto score = [&](int e) { return allowed[e / per] ? b[e] : 0.0; };
  order->clear();
  for (int e = 0; e < E; ++e)
    if (allowed[e / per] || p.masked_zero) order->push_back(e);
  std::stable_sort(order->begin(), order->end(), [&](int x, int y) { return score(x) > score(y); });
}

}  // namespace

void Route(const RouteParams& p) {
  const int E = p.num_experts;
  std::vector<double> prob(static_cast<size_t>(E)), biased(static_cast<size_t>(E));
  std::vector<int> order(static_cast<size_t>(E));
  for (int64_t r = 0; r < p.n; ++r) {
    const float* l = p.logits + r * E;
    double mx = -INFINITY, sum = 0.0;
    for (int e = 0; e < E; ++e) mx = std::max(mx, static_cast<double>(l[e]));
    for (int e = 0; e < E; ++e) {
      prob[e] = p.softmax ? std::exp(l[e] - mx) : 1.0 / (1.0 + std::exp(-static_cast<double>(l[e])));
      sum += prob[e];
    }
    if (p.softmax)
      for (double& v : prob) v /= sum;
    if (p.choice_bias != nullptr) {
      for (int e = 0; e < E; ++e) biased[e] = prob[e] + static_cast<double>(p.choice_bias[e]);
      ChooseGrouped(p, biased, &order);
    } else {
      order.resize(static_cast<size_t>(E));
      for (int e = 0; e < E; ++e) order[e] = e;
      std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return prob[a] > prob[b]; });
    }
    double top = 0.0;
    for (int j = 0; j < p.k; ++j) top += prob[order[j]];
    if (p.choice_bias != nullptr) top += 1e-20;
    for (int j = 0; j < p.k; ++j) {
      const int e = order[j];
      double w = p.normalize ? prob[e] / top : prob[e];
      if (p.per_expert_scale != nullptr) w *= p.per_expert_scale[e];
      p.ids[r * p.k + j] = e;
      p.weights[r * p.k + j] = static_cast<float>(w * p.scale);
    }
  }
}

void Moe(const MoeParams& p) {
  const int64_t I = p.inter, H = p.hidden;
  std::vector<double> act(static_cast<size_t>(I)), acc(static_cast<size_t>(H));
  std::vector<float> g_row(static_cast<size_t>(H)), u_row(static_cast<size_t>(H)), d_row(static_cast<size_t>(I));
  for (int64_t r = 0; r < p.n; ++r) {
    const float* x = p.x + r * H;
    std::fill(acc.begin(), acc.end(), 0.0);
    for (int j = 0; j < p.k; ++j) {
      const int64_t e = p.ids[r * p.k + j];
      for (int64_t i = 0; i < I; ++i) {
        WeightRowToF32(p.gate_up, p.w_dtype, p.gate_up_q, e * 2 * I + i, H, g_row.data());
        WeightRowToF32(p.gate_up, p.w_dtype, p.gate_up_q, e * 2 * I + I + i, H, u_row.data());
        double g = 0.0, u = 0.0;
        for (int64_t c = 0; c < H; ++c) {
          g += static_cast<double>(x[c]) * g_row[c];
          u += static_cast<double>(x[c]) * u_row[c];
        }
        act[i] = (p.act == GateAct::kSilu ? Silu(g) : GeluTanh(g)) * u;
      }
      for (int64_t h = 0; h < H; ++h) {
        WeightRowToF32(p.down, p.w_dtype, p.down_q, e * H + h, I, d_row.data());
        double d = 0.0;
        for (int64_t i = 0; i < I; ++i) d += act[i] * d_row[i];
        acc[h] += p.weights[r * p.k + j] * d;
      }
    }
    for (int64_t h = 0; h < H; ++h) p.out[r * H + h] = static_cast<float>(acc[h]);
  }
}

void Embedding(const EmbeddingParams& p) {
  std::vector<float> row(static_cast<size_t>(p.d));
  for (int64_t t = 0; t < p.n; ++t) {
    WeightRowToF32(p.table, p.table_dtype, p.table_q, p.ids[t], p.d, row.data());
    for (int64_t j = 0; j < p.d; ++j) p.out[t * p.d + j] = row[j] * p.scale;
  }
}

namespace {

// One cache element: f32 or bf16 (the cache's dtype).
float LoadKv(const void* cache, DType dtype, int64_t i) {
  return dtype == DType::kBF16 ? Bf16ToF32(static_cast<const uint16_t*>(cache)[i])
                               : static_cast<const float*>(cache)[i];
}
void StoreKv(void* cache, DType dtype, int64_t i, float x) {
  if (dtype == DType::kBF16) {
    static_cast<uint16_t*>(cache)[i] = F32ToBf16(x);
  } else {
    static_cast<float*>(cache)[i] = x;
  }
}

}  // namespace

void KvWrite(const KvWriteParams& p) {
  const int64_t hd = p.head_dim;
  for (int64_t t = 0; t < p.n_tokens; ++t) {
    const int64_t slot = p.slot_mapping[t];
    if (slot < 0) continue;  // padding token: nothing to store
    for (int h = 0; h < p.n_kv_heads; ++h) {
      const int64_t at = KvRowOffset(p.layout, slot, h, p.n_kv_heads, p.head_dim, p.block_size);
      for (int64_t d = 0; d < hd; ++d) {
        StoreKv(p.k_cache, p.cache_dtype, at + d, p.k[(t * p.n_kv_heads + h) * hd + d]);
        StoreKv(p.v_cache, p.cache_dtype, at + d, p.v[(t * p.n_kv_heads + h) * hd + d]);
      }
    }
  }
}

void Attention(const AttentionParams& p) {
  const int group = p.n_heads / p.n_kv_heads;
  const int64_t hd = p.head_dim;
  std::vector<double> scores, acc(hd);
  for (int s = 0; s < p.n_seqs; ++s) {
    const int32_t* table = p.block_tables + static_cast<int64_t>(s) * p.max_blocks_per_seq;
    for (int32_t t = p.seq_q_begin[s]; t < p.seq_q_begin[s] + p.seq_q_len[s]; ++t) {
      const int64_t n_keys = static_cast<int64_t>(p.positions[t]) + 1;
      const int64_t first = p.window > 0 ? std::max<int64_t>(0, n_keys - p.window) : 0;
      for (int h = 0; h < p.n_heads; ++h) {
        const int kvh = h / group;
        const float* q = p.q + (static_cast<int64_t>(t) * p.n_heads + h) * hd;
        auto row_of = [&](int64_t pos) {  // element offset of key pos's row of head kvh
          const int64_t slot = static_cast<int64_t>(table[pos / p.block_size]) * p.block_size + pos % p.block_size;
          return KvRowOffset(p.layout, slot, kvh, p.n_kv_heads, p.head_dim, p.block_size);
        };
        scores.assign(n_keys, 0.0);
        double max_s = -INFINITY;
        for (int64_t j = first; j < n_keys; ++j) {
          const int64_t k = row_of(j);
          double dot = 0.0;
          for (int64_t d = 0; d < hd; ++d) dot += static_cast<double>(q[d]) * LoadKv(p.k_cache, p.cache_dtype, k + d);
          scores[j] = dot * p.scale;
          if (p.softcap > 0) scores[j] = p.softcap * std::tanh(scores[j] / p.softcap);
          max_s = std::max(max_s, scores[j]);
        }
        double sum = 0.0;
        for (int64_t j = first; j < n_keys; ++j) sum += (scores[j] = std::exp(scores[j] - max_s));
        std::fill(acc.begin(), acc.end(), 0.0);
        for (int64_t j = first; j < n_keys; ++j) {
          const int64_t v = row_of(j);
          for (int64_t d = 0; d < hd; ++d) acc[d] += scores[j] * LoadKv(p.v_cache, p.cache_dtype, v + d);
        }
        float* out = p.out + (static_cast<int64_t>(t) * p.n_heads + h) * hd;
        for (int64_t d = 0; d < hd; ++d) out[d] = static_cast<float>(acc[d] / sum);
      }
    }
  }
}

void RowMass(const RowMassParams& p) {
  for (int64_t r = 0; r < p.rows; ++r) {
    const double best = p.best[r * p.best_stride], inv_t = p.inv_t[r];
    double mass = 0.0;
    for (int64_t j = 0; j < p.n; ++j) mass += std::exp((static_cast<double>(p.x[r * p.n + j]) - best) * inv_t);
    p.mass[r] = static_cast<float>(mass);
  }
}

}  // namespace ax::kernels::ref
