// Row-wise and data-movement kernels: RmsNorm (+ fused residual), Rope, GatedAct, Softcap, Add,
// Embedding, KvWrite, RowMass, and the processor check. All are memory-bound or nearly so:
// one pass (two for RmsNorm) over each row, 8-wide, rows split across the pool with a
// grain large enough that decode-sized calls (m = 1) stay on the calling thread.
#include <cpuid.h>
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "base/check.h"
#include "kernels/cpu/cpu.h"
#include "kernels/cpu/simd.h"
#include "tensor/quant.h"

namespace ax::kernels::cpu {
namespace {

// Rows per ParallelFor grain so that one chunk holds at least ~16K elements of work:
// below that the fork/join costs more than it saves.
int64_t RowGrain(int64_t row_elems) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(1, row_elems)); }

// y[d] = src[d] * inv_rms * w[d], where src = x, or residual += x first (fused form).
void RmsNormRow(const float* x, float* residual, const float* w, float* y, int64_t d, float eps) {
  const int64_t d8 = d & ~int64_t{7};
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  const float* src = x;
  if (residual != nullptr) {
    int64_t j = 0;
    for (; j < d8; j += 8) {
      const __m256 r = _mm256_add_ps(_mm256_loadu_ps(residual + j), _mm256_loadu_ps(x + j));
      _mm256_storeu_ps(residual + j, r);
      s0 = _mm256_fmadd_ps(r, r, s0);
    }
    for (; j < d; ++j) residual[j] += x[j];
    src = residual;
  } else {
    int64_t j = 0;
    for (; j + 16 <= d8; j += 16) {
      const __m256 a = _mm256_loadu_ps(x + j), b = _mm256_loadu_ps(x + j + 8);
      s0 = _mm256_fmadd_ps(a, a, s0);
      s1 = _mm256_fmadd_ps(b, b, s1);
    }
    for (; j < d8; j += 8) {
      const __m256 a = _mm256_loadu_ps(x + j);
      s0 = _mm256_fmadd_ps(a, a, s0);
    }
  }
  double ss = simd::Hsum(_mm256_add_ps(s0, s1));
  for (int64_t j = d8; j < d; ++j) ss += static_cast<double>(src[j]) * src[j];
  const float inv = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(d) + eps));
  const __m256 vinv = _mm256_set1_ps(inv);
  int64_t j = 0;
  for (; j < d8; j += 8) {
    const __m256 v = _mm256_mul_ps(_mm256_loadu_ps(src + j), vinv);
    _mm256_storeu_ps(y + j, _mm256_mul_ps(v, _mm256_loadu_ps(w + j)));
  }
  for (; j < d; ++j) y[j] = src[j] * inv * w[j];
}

// Rotates one head: (a, b) = (x[i], x[i + half]) -> (a*c - b*s, b*c + a*s).
void RopeHead(float* x, const float* cs, const float* sn, int half) {
  int i = 0;
  for (; i + 8 <= half; i += 8) {
    const __m256 a = _mm256_loadu_ps(x + i), b = _mm256_loadu_ps(x + half + i);
    const __m256 c = _mm256_loadu_ps(cs + i), s = _mm256_loadu_ps(sn + i);
    _mm256_storeu_ps(x + i, _mm256_fmsub_ps(a, c, _mm256_mul_ps(b, s)));
    _mm256_storeu_ps(x + half + i, _mm256_fmadd_ps(b, c, _mm256_mul_ps(a, s)));
  }
  for (; i < half; ++i) {
    const float a = x[i], b = x[half + i];
    x[i] = a * cs[i] - b * sn[i];
    x[half + i] = b * cs[i] + a * sn[i];
  }
}

// dst[0:n] = f32(src[0:n]) for a table row of dtype dt.
void ConvertRow(DType dt, const void* src, float* dst, int64_t n) {
  const auto* h = static_cast<const uint16_t*>(src);
  int64_t j = 0;
  switch (dt) {
    case DType::kF32:
      std::memcpy(dst, src, n * sizeof(float));
      return;
    case DType::kBF16:
      simd::WidenBf16Row(h, dst, n);
      return;
    case DType::kF16:
      for (; j + 8 <= n; j += 8) _mm256_storeu_ps(dst + j, simd::LoadF16x8(h + j));
      for (; j < n; ++j) dst[j] = F16ToF32(h[j]);
      return;
    case DType::kI32:
    case DType::kU32:
    case DType::kAffine:  // dequantized by the caller
      break;
  }
  AX_CHECK_MSG(false, "Embedding: table must be f32, f16 or bf16");
}

}  // namespace

bool CpuHasAvx2Fma() {
  __builtin_cpu_init();
  // F16C through cpuid: clang's __builtin_cpu_supports does not know "f16c".
  unsigned a = 0, b = 0, c = 0, d = 0;
  const bool f16c = __get_cpuid(1, &a, &b, &c, &d) != 0 && (c & bit_F16C) != 0;
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && f16c;
}

bool CpuHasAvx512Vl() {
  __builtin_cpu_init();
  return CpuHasAvx2Fma() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl");
}

void RmsNorm(const RmsNormParams& p, ThreadPool& pool) {
  pool.ParallelFor(p.m, RowGrain(p.d), [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      RmsNormRow(p.x + i * p.d, p.residual ? p.residual + i * p.d : nullptr, p.w, p.y + i * p.d,
                 p.d, p.eps);
    }
  });
}

// cos/sin of the angles are computed once per token (f32 angle as Hugging Face forms
// it, f64 cos/sin, same as kernels/ref) and shared by all heads of that token.
void Rope(const RopeParams& p, ThreadPool& pool) {
  const int half = p.rot_dim / 2;
  if (half <= 0) return;
  const int64_t row = static_cast<int64_t>(p.n_heads) * p.head_dim;
  pool.ParallelFor(p.n_tokens, RowGrain(row + 16 * half), [&](int64_t begin, int64_t end) {
    std::vector<float> cs(half), sn(half);
    for (int64_t t = begin; t < end; ++t) {
      for (int i = 0; i < half; ++i) {
        const float angle = static_cast<float>(p.positions[t]) * p.inv_freq[i];
        cs[i] = static_cast<float>(std::cos(static_cast<double>(angle)));
        sn[i] = static_cast<float>(std::sin(static_cast<double>(angle)));
      }
      for (int h = 0; h < p.n_heads; ++h) {
        RopeHead(p.x + t * row + static_cast<int64_t>(h) * p.head_dim, cs.data(), sn.data(), half);
      }
    }
  });
}

// out = act(g) * u: silu(g) = g / (1 + exp(-g)); gelu_tanh(g) = 0.5 g (1 + tanh(y)),
// y = c (g + 0.044715 g^3), computed as g / (1 + exp(-2y)) (the same function, since
// (1 + tanh y) / 2 = sigmoid(2y)), which keeps its relative precision where tanh y
// nears -1 and the sum 1 + tanh y would cancel.
void GatedAct(const GatedActParams& p, ThreadPool& pool) {
  const bool gelu = p.act == GateAct::kGeluTanh;
  constexpr float kC = 0.7978845608028654f, kA = 0.044715f;
  pool.ParallelFor(p.m, RowGrain(p.f), [&](int64_t begin, int64_t end) {
    const __m256 one = _mm256_set1_ps(1.0f);
    for (int64_t i = begin; i < end; ++i) {
      const float* g = p.gate_up + i * (p.up ? p.gate_stride : 2 * p.f);
      const float* u = p.up ? p.up + i * p.up_stride : g + p.f;
      float* out = p.out + i * p.f;
      int64_t j = 0;
      for (; j + 8 <= p.f; j += 8) {
        const __m256 gv = _mm256_loadu_ps(g + j);
        __m256 a;
        if (gelu) {
          const __m256 minus_2y = _mm256_mul_ps(
              _mm256_set1_ps(-2.0f * kC),
              _mm256_fmadd_ps(_mm256_mul_ps(_mm256_set1_ps(kA), gv), _mm256_mul_ps(gv, gv), gv));
          a = _mm256_div_ps(gv, _mm256_add_ps(one, simd::Exp(minus_2y)));
        } else {
          a = _mm256_div_ps(gv, _mm256_add_ps(one, simd::Exp(_mm256_sub_ps(_mm256_setzero_ps(), gv))));
        }
        _mm256_storeu_ps(out + j, _mm256_mul_ps(a, _mm256_loadu_ps(u + j)));
      }
      for (; j < p.f; ++j) {
        const float x = g[j];
        const float a = gelu ? x / (1.0f + std::exp(-2.0f * kC * (x + kA * x * x * x))) : x / (1.0f + std::exp(-x));
        out[j] = a * u[j];
      }
    }
  });
}

void Softcap(const SoftcapParams& p, ThreadPool& pool) {
  pool.ParallelFor(p.n, 4096, [&](int64_t begin, int64_t end) {
    const __m256 cap = _mm256_set1_ps(p.cap), inv = _mm256_set1_ps(1.0f / p.cap);
    int64_t i = begin;
    for (; i + 8 <= end; i += 8)
      _mm256_storeu_ps(p.x + i, _mm256_mul_ps(cap, simd::Tanh(_mm256_mul_ps(_mm256_loadu_ps(p.x + i), inv))));
    for (; i < end; ++i) p.x[i] = p.cap * std::tanh(p.x[i] / p.cap);
  });
}

void Scale(const ScaleParams& p, ThreadPool& pool) {
  pool.ParallelFor(p.n, 4096, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) p.x[i] *= p.s;
  });
}

void Add(const AddParams& p, ThreadPool& pool) {
  pool.ParallelFor(p.n, 4096, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) p.y[i] += p.x[i];
  });
}

void Embedding(const EmbeddingParams& p, ThreadPool& pool) {
  const size_t esize = DTypeSize(p.table_dtype);
  pool.ParallelFor(p.n, RowGrain(p.d), [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      AX_CHECK(p.ids[t] >= 0 && p.ids[t] < p.vocab);
      float* out = p.out + t * p.d;
      if (p.table_dtype == DType::kAffine) {
        DequantizeAffineRow(p.table, p.table_q, p.ids[t], p.d, out);
      } else {
        ConvertRow(p.table_dtype, static_cast<const char*>(p.table) + p.ids[t] * p.d * esize, out, p.d);
      }
      if (p.scale != 1.0f)
        for (int64_t j = 0; j < p.d; ++j) out[j] *= p.scale;
    }
  });
}

// Tokens whose slot is negative (padding) are skipped, as in kernels/ref. One head's
// row at a time, as its place depends on the layout; bf16 rows are rounded as
// F32ToBf16 rounds (the same bits as kernels/ref).
void KvWrite(const KvWriteParams& p, ThreadPool& pool) {
  const int64_t hd = p.head_dim, row = static_cast<int64_t>(p.n_kv_heads) * hd;
  const bool bf16 = p.cache_dtype == DType::kBF16;
  AX_CHECK(bf16 || p.cache_dtype == DType::kF32);
  const auto store = [&](void* cache, int64_t at, const float* src) {
    if (!bf16) {
      std::memcpy(static_cast<float*>(cache) + at, src, hd * sizeof(float));
      return;
    }
    simd::NarrowBf16Row(src, static_cast<uint16_t*>(cache) + at, hd);
  };
  pool.ParallelFor(p.n_tokens, RowGrain(2 * row), [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const int64_t slot = p.slot_mapping[t];
      if (slot < 0) continue;
      for (int h = 0; h < p.n_kv_heads; ++h) {
        const int64_t at = KvRowOffset(p.layout, slot, h, p.n_kv_heads, p.head_dim, p.block_size);
        store(p.k_cache, at, p.k + t * row + h * hd);
        store(p.v_cache, at, p.v + t * row + h * hd);
      }
    }
  });
}

// 8-lane exp (relative error ~2e-7) in f32, summed per block of 8 lanes into double.
void RowMass(const RowMassParams& p, ThreadPool& pool) {
  pool.ParallelFor(p.rows, RowGrain(p.n), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const float* x = p.x + r * p.n;
      const __m256 best = _mm256_set1_ps(p.best[r * p.best_stride]), inv_t = _mm256_set1_ps(p.inv_t[r]);
      const int64_t n8 = p.n & ~int64_t{7};
      __m256d acc0 = _mm256_setzero_pd(), acc1 = _mm256_setzero_pd();
      for (int64_t j = 0; j < n8; j += 8) {
        const __m256 w = simd::Exp(_mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + j), best), inv_t));
        acc0 = _mm256_add_pd(acc0, _mm256_cvtps_pd(_mm256_castps256_ps128(w)));
        acc1 = _mm256_add_pd(acc1, _mm256_cvtps_pd(_mm256_extractf128_ps(w, 1)));
      }
      alignas(32) double lanes[4];
      _mm256_store_pd(lanes, _mm256_add_pd(acc0, acc1));
      double mass = lanes[0] + lanes[1] + lanes[2] + lanes[3];
      for (int64_t j = n8; j < p.n; ++j) mass += std::exp((x[j] - p.best[r * p.best_stride]) * p.inv_t[r]);
      p.mass[r] = static_cast<float>(mass);
    }
  });
}

}  // namespace ax::kernels::cpu
