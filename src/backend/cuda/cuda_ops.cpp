// CudaBackend ops: fill a kernels/cuda parameter struct from the views and the staged
// batch metadata, launch on the backend's stream, keep the first error. Activations
// and the KV cache are bf16, or f32 in the f32 precision mode: ops dispatch on the
// tensor's dtype (ByAct) to the kernels' bf16 or f32 instantiation.
#include <algorithm>
#include <cstdlib>
#include <string>
#include <type_traits>
#include <vector>

#include "backend/cuda/cuda_backend_impl.h"
#include "base/check.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/gemm.h"
#include "kernels/cuda/kernels.h"

namespace ax {
namespace kc = kernels::cuda;

namespace {

// A device tensor's data as T (uint16_t: bf16 bits, or float; const or not), checked.
template <typename T>
T* Dev(const TensorView& t) {
  constexpr bool kF32 = std::is_same_v<std::remove_const_t<T>, float>;
  AX_CHECK_MSG(t.dtype == (kF32 ? DType::kF32 : DType::kBF16) && t.device == Device::kCuda,
               kF32 ? "cuda op expects an f32 device tensor" : "cuda op expects a bf16 device tensor");
  return static_cast<T*>(t.data);
}
// Weights (bf16) and f32 vectors (norm weights, inv_freq, logits).
const uint16_t* Bf16(const TensorView& t) { return Dev<const uint16_t>(t); }
const float* F32(const TensorView& t) { return Dev<const float>(t); }

// f(T{}) with T the element type of activations of dtype d.
template <typename F>
void ByAct(DType d, F&& f) {
  if (d == DType::kF32) {
    f(float{});
  } else {
    f(kc::bf16_bits{});
  }
}

// The codes, scales and biases of an affine-quantized device weight into kernel params.
void SetAffine(const TensorView& w, kc::AffineWeightParams* p) {
  AX_CHECK(w.dtype == DType::kAffine && w.device == Device::kCuda);
  p->w = w.data;
  p->scales = w.quant.scales;
  p->biases = w.quant.biases;
  p->scale_kind = w.quant.scale_dtype == DType::kF32 ? 0 : w.quant.scale_dtype == DType::kF16 ? 1 : 2;
  p->bits = w.quant.bits;
  p->group = w.quant.group_size;
}

// The first `rows` rows of a dense [*, cols] tensor (the prompt rows of a step).
TensorView FirstRows(TensorView t, int64_t rows, int64_t cols) {
  t.shape = Shape{rows, cols};
  return t;
}

}  // namespace

void CudaBackend::Embedding(const TensorView& table, float scale, TensorView out) {
  if (table.dtype == DType::kAffine) {
    ByAct(out.dtype, [&](auto t) {
      kc::AffineEmbeddingParamsT<decltype(t)> p;
      SetAffine(table, &p);
      p.ids = meta_.tokens;
      p.out = Dev<decltype(t)>(out);
      p.n = meta_.n_tokens;
      p.d = table.shape[1];
      p.scale = scale;
      Note(kc::LaunchAffineEmbedding(p, stream_));
    });
    return;
  }
  ByAct(out.dtype, [&](auto t) {
    kc::EmbeddingParamsT<decltype(t)> p;
    p.table = Bf16(table);
    p.ids = meta_.tokens;
    p.out = Dev<decltype(t)>(out);
    p.n = meta_.n_tokens;
    p.d = table.shape[1];
    Note(kc::LaunchEmbedding(p, stream_));
    if (scale != 1.0f) Note(kc::LaunchScale(p.out, p.n * p.d, scale, stream_));
  });
}

void CudaBackend::Add(const TensorView& x, TensorView y) {
  AX_CHECK(x.numel() == y.numel() && x.dtype == y.dtype);
  ByAct(y.dtype, [&](auto t) {
    using T = decltype(t);
    Note(kc::LaunchAdd(Dev<T>(x), Dev<T>(y), y.numel(), stream_));
  });
}

void CudaBackend::Scale(TensorView x, float s) {
  ByAct(x.dtype, [&](auto t) {
    using T = decltype(t);
    Note(kc::LaunchScale(Dev<T>(x), x.numel(), s, stream_));
  });
}

void CudaBackend::ActMul(const TensorView& gate, const TensorView& up, int64_t up_stride, TensorView out,
                         GateAct act) {
  Gated(gate, &up, up_stride, out, act);
}

void CudaBackend::Softcap(TensorView x, float cap) {
  AX_CHECK(x.dtype == DType::kF32);
  Note(kc::LaunchSoftcap(static_cast<float*>(x.data), x.numel(), cap, stream_));
}

void CudaBackend::RmsNorm(const TensorView& x, const TensorView& w, float eps, TensorView y) {
  ByAct(x.dtype, [&](auto t) {
    using T = decltype(t);
    kc::RmsNormParamsT<T> p;
    p.d = w.shape[0];
    p.m = x.numel() / p.d;
    p.x = Dev<T>(x);
    p.w = F32(w);
    p.y = Dev<T>(y);
    p.eps = eps;
    Note(kc::LaunchRmsNorm(p, stream_));
  });
}

void CudaBackend::Matmul(const TensorView& x, const TensorView& w, TensorView y, bool accumulate,
                         int64_t throughput_rows) {
  AX_CHECK_MSG(y.dtype == DType::kBF16 || y.dtype == DType::kF32, "cuda Matmul writes bf16 or f32");
  if (x.dtype == DType::kF32) {
    MatmulAs<float>(x, w, y, accumulate, throughput_rows);
  } else {
    MatmulAs<kc::bf16_bits>(x, w, y, accumulate, throughput_rows);
  }
}

// Prompt rows with bf16 x: every row through cuBLASLt with one algorithm per matrix
// (CublasMatmulFixed), so a prompt row's bits do not depend on how many prompt rows
// share the step (AX_CUDA_PROMPT_GEMM_FIXED=0: the GEMV for a few rows and
// cublasGemmEx's heuristic above, as before). f32 x: the GEMV, or bf16 hi + lo GEMMs.
// Generated rows, drafts and logits: with bf16 x, the tensor-core row GEMM
// (LaunchGemmRows, all rows in one launch) when the matrix allows it (k % 64 == 0,
// sm_90), else the GEMV in groups of at most kGemvMaxRows rows (also the f32 precision
// mode's exact-f32 path). The choice depends on the matrix alone, never on m, so a row's
// result does not depend on what it is batched with.
template <typename T>
void CudaBackend::MatmulAs(const TensorView& x, const TensorView& w, TensorView y, bool accumulate,
                           int64_t throughput_rows) {
  const int64_t k = w.shape[1];
  const int64_t m = x.numel() / k;
  if (w.dtype == DType::kAffine) {
    // Prompt rows with bf16 activations, more than the GEMV's 8: the matrix dequantized
    // to bf16 (scratch) and cuBLAS, as a bf16 checkpoint's prompt rows. Every other row:
    // the affine GEMV (its sums depend on k only, so generated rows are batch-invariant).
    int64_t r0 = 0;
    if constexpr (std::is_same_v<T, kc::bf16_bits>) {
      const int64_t split = std::clamp<int64_t>(throughput_rows, 0, m);
      const size_t elems = static_cast<size_t>(w.shape[0] * k);
      // Batch-invariant prompt rows (fixed_prompt_gemm_): every prompt row this way,
      // so a row's bits do not depend on the prompt chunk's size.
      if ((split > kc::kGemvMaxRows || (fixed_prompt_gemm_ && split > 0)) && error_.ok()) {
        if (elems > affine_scratch_elems_) {
          auto buf = arena_.Alloc(elems * sizeof(uint16_t), "the bf16 dequantization of an affine matrix");
          if (!buf.ok()) {
            Note(buf.status());
            return;
          }
          affine_scratch_ = static_cast<uint16_t*>(*buf);
          affine_scratch_elems_ = elems;
        }
        kc::AffineDequantParams d;
        SetAffine(w, &d);
        d.out = affine_scratch_;
        d.n = w.shape[0];
        d.k = k;
        Note(kc::LaunchAffineDequant(d, stream_));
        kc::MatmulParamsT<T> p;
        p.x = Dev<T>(x);
        p.w = affine_scratch_;
        p.y = y.data;
        p.y_f32 = y.dtype == DType::kF32;
        p.accumulate = accumulate;
        p.n = w.shape[0];
        p.k = k;
        p.m = split;
        Note(fixed_prompt_gemm_ ? kc::CublasMatmulFixed(p, stream_) : kc::CublasMatmul(cublas_, p));
        r0 = split;
      }
    }
    if (r0 == m) return;
    kc::AffineMatmulParamsT<T> p;
    SetAffine(w, &p);
    p.x = Dev<T>(x) + r0 * k;
    p.y = static_cast<char*>(y.data) + r0 * w.shape[0] * static_cast<int64_t>(DTypeSize(y.dtype));
    p.y_f32 = y.dtype == DType::kF32;
    p.accumulate = accumulate;
    p.m = m - r0;
    p.n = w.shape[0];
    p.k = k;
    Note(kc::LaunchAffineMatmul(p, stream_));
    return;
  }
  const int64_t split = std::clamp<int64_t>(throughput_rows, 0, m);
  const size_t y_row = static_cast<size_t>(w.shape[0]) * DTypeSize(y.dtype);
  auto part = [&](int64_t r0, int64_t rows) {
    kc::MatmulParamsT<T> p;
    p.x = Dev<T>(x) + r0 * k;
    p.w = Bf16(w);
    p.y = static_cast<char*>(y.data) + r0 * y_row;
    p.y_f32 = y.dtype == DType::kF32;
    p.accumulate = accumulate;
    p.n = w.shape[0];
    p.k = k;
    p.m = rows;
    return p;
  };
  if (split > 0) {
    const kc::MatmulParamsT<T> p = part(0, split);
    if constexpr (std::is_same_v<T, float>) {
      if (p.m <= kc::kGemvMaxRows) {
        Note(kc::LaunchGemv(p, stream_));
      } else {
        AX_CHECK_MSG(p.y_f32, "cuda Matmul: f32 activations need an f32 output");
        Note(kc::CublasMatmulSplit(cublas_, p, split_hi_, split_lo_, static_cast<int64_t>(kSplitElems), stream_));
      }
    } else if (fixed_prompt_gemm_) {
      Note(kc::CublasMatmulFixed(p, stream_));
    } else if (p.m <= kc::kGemvMaxRows) {
      Note(kc::LaunchGemv(p, stream_));
    } else {
      Note(kc::CublasMatmul(cublas_, p));
    }
  }
  if (split == m) return;
  if constexpr (std::is_same_v<T, kc::bf16_bits>) {
    if (RowGemm(k, Dev<T>(x), Bf16(w))) {
      Note(kc::LaunchGemmRows(part(split, m - split), stream_));
      return;
    }
  }
  for (int64_t r0 = split; r0 < m; r0 += kc::kGemvMaxRows) {
    Note(kc::LaunchGemv(part(r0, std::min<int64_t>(kc::kGemvMaxRows, m - r0)), stream_));
  }
}

// Generated rows take one launch for every matrix when the shapes allow it: the row
// GEMM's group (bf16, k % 64 == 0) or else the GEMV group (GemvGroupKernel), each giving
// a matrix's rows the same bits as Matmul does; prompt rows and other shapes go matrix
// by matrix.
void CudaBackend::MatmulGroup(const TensorView& x, std::span<const TensorView> w, std::span<const TensorView> y,
                              int64_t throughput_rows) {
  AX_CHECK(w.size() == y.size() && !w.empty());
  ByAct(x.dtype, [&](auto t) {
    using T = decltype(t);
    const int64_t k = w[0].shape[1];
    const int64_t m = x.numel() / k;
    const int64_t split = std::clamp<int64_t>(throughput_rows, 0, m);
    kc::GemvGroupParamsT<T> g;
    g.count = static_cast<int>(w.size());
    g.k = k;
    g.x = Dev<T>(x) + split * k;
    bool fused = w.size() <= static_cast<size_t>(kc::kGemvMaxMats) && split < m;
    for (size_t i = 0; fused && i < w.size(); ++i) {
      fused = w[i].shape[1] == k && w[i].dtype == DType::kBF16 && y[i].dtype == x.dtype;
      if (fused) {
        g.w[i] = Bf16(w[i]);
        g.y[i] = Dev<T>(y[i]) + split * w[i].shape[0];
        g.n[i] = w[i].shape[0];
      }
    }
    bool rows_gemm = false;
    if constexpr (std::is_same_v<T, kc::bf16_bits>) {
      rows_gemm = fused && RowGemm(k, g.x, g.w[0]);
      for (int i = 1; rows_gemm && i < g.count; ++i) rows_gemm = RowGemm(k, g.x, g.w[i]);
      // A matrix Matmul would send to the row GEMM must not take the GEMV group.
      if (fused && !rows_gemm && RowGemm(k, g.x, g.w[0])) fused = false;
    }
    if (!fused || (!rows_gemm && !kc::GemvGroupSupports(g))) {
      Backend::MatmulGroup(x, w, y, throughput_rows);
      return;
    }
    for (size_t i = 0; i < w.size() && split > 0; ++i)
      Matmul(FirstRows(x, split, k), w[i], FirstRows(y[i], split, w[i].shape[0]), /*accumulate=*/false, split);
    if constexpr (std::is_same_v<T, kc::bf16_bits>) {
      if (rows_gemm) {
        g.m = m - split;
        Note(kc::LaunchGemmRowsGroup(g, stream_));
        return;
      }
    }
    for (int64_t r0 = split; r0 < m; r0 += kc::kGemvMaxRows) {
      kc::GemvGroupParamsT<T> p = g;
      p.m = std::min<int64_t>(kc::kGemvMaxRows, m - r0);
      p.x = g.x + (r0 - split) * k;
      for (int i = 0; i < p.count; ++i) p.y[i] = g.y[i] + (r0 - split) * g.n[i];
      Note(kc::LaunchGemvGroup(p, stream_));
    }
  });
}

// Prompt rows: cuBLAS into gate_up, then GatedAct. Generated rows (SiLU): one fused
// launch, the row GEMM's (bf16, f % 64 == 0, k % 64 == 0) or the GEMV's (GemvSiluKernel,
// per group of kGemvMaxRows) for matrices Matmul sends to the GEMV, when the shapes
// allow it; both give the bits of Matmul then GatedAct.
void CudaBackend::MatmulGatedAct(const TensorView& x, const TensorView& w_gate_up, TensorView gate_up, TensorView act,
                                 GateAct gate_act, int64_t throughput_rows) {
  if (gate_act != GateAct::kSilu || w_gate_up.dtype == DType::kAffine) {
    Backend::MatmulGatedAct(x, w_gate_up, gate_up, act, gate_act, throughput_rows);
    return;
  }
  ByAct(x.dtype, [&](auto t) {
    using T = decltype(t);
    const int64_t k = w_gate_up.shape[1], f = w_gate_up.shape[0] / 2;
    const int64_t m = x.numel() / k;
    const int64_t split = std::clamp<int64_t>(throughput_rows, 0, m);
    kc::GemvSiluParamsT<T> g;
    g.x = Dev<T>(x) + split * k;
    g.w = Bf16(w_gate_up);
    g.f = f;
    g.k = k;
    bool rows_gemm = false, gemv = kc::GemvSiluSupports(g);
    if constexpr (std::is_same_v<T, kc::bf16_bits>) {
      rows_gemm = RowGemmSilu(f, k, g.x, g.w);
      // A matrix Matmul sends to the row GEMM must not take the fused GEMV either.
      if (RowGemm(k, g.x, g.w)) gemv = false;
    }
    if (act.dtype != x.dtype || w_gate_up.shape[0] % 2 != 0 || split == m || !(rows_gemm || gemv)) {
      Backend::MatmulGatedAct(x, w_gate_up, gate_up, act, gate_act, throughput_rows);
      return;
    }
    if (split > 0) {
      Backend::MatmulGatedAct(FirstRows(x, split, k), w_gate_up, FirstRows(gate_up, split, 2 * f),
                              FirstRows(act, split, f), gate_act, split);
    }
    if constexpr (std::is_same_v<T, kc::bf16_bits>) {
      if (rows_gemm) {
        g.m = m - split;
        g.act = Dev<T>(act) + split * f;
        Note(kc::LaunchGemmRowsSilu(g, stream_));
        return;
      }
    }
    for (int64_t r0 = split; r0 < m; r0 += kc::kGemvMaxRows) {
      kc::GemvSiluParamsT<T> p = g;
      p.m = std::min<int64_t>(kc::kGemvMaxRows, m - r0);
      p.x = Dev<T>(x) + r0 * k;
      p.act = Dev<T>(act) + r0 * f;
      Note(kc::LaunchGemvSilu(p, stream_));
    }
  });
}

void CudaBackend::ArgmaxRows(const TensorView& x, TensorView ids) {
  AX_CHECK(x.dtype == DType::kF32 && ids.dtype == DType::kI32 && x.shape.ndim == 2);
  Note(kc::LaunchArgmaxRows(static_cast<const float*>(x.data), x.shape[0], x.shape[1], static_cast<int32_t*>(ids.data),
                            stream_));
}

void CudaBackend::TopRows(const TensorView& x, int k, TensorView ids, TensorView vals) {
  AX_CHECK(x.dtype == DType::kF32 && ids.dtype == DType::kI32 && vals.dtype == DType::kF32 && x.shape.ndim == 2);
  static_assert(kc::kTopKMax == kMaxTopRows);
  Note(kc::LaunchTopKRows(static_cast<const float*>(x.data), x.shape[0], x.shape[1], k,
                          static_cast<int32_t*>(ids.data), static_cast<float*>(vals.data), stream_));
}

void CudaBackend::RowMass(const TensorView& x, const TensorView& vals, int64_t first_row, TensorView mass) {
  AX_CHECK(x.shape.ndim == 2 && vals.shape.ndim == 2 && mass.dtype == DType::kF32);
  Note(kc::LaunchRowMass(F32(x), x.shape[0], x.shape[1], F32(vals), vals.shape[1],
                         meta_.logit_inv_temperature + first_row, static_cast<float*>(mass.data), stream_));
}

void CudaBackend::ApplyPenalties(TensorView logits, int64_t first_row) {
  AX_CHECK(logits.shape.ndim == 2 && logits.dtype == DType::kF32 && meta_.penalties.any());
  Note(kc::LaunchPenalties(static_cast<float*>(logits.data), logits.shape[0], logits.shape[1], first_row,
                           meta_.penalties, stream_));
}

void CudaBackend::Rope(TensorView x, int n_heads, int head_dim, const TensorView& inv_freq) {
  ByAct(x.dtype, [&](auto t) {
    kc::RopeParamsT<decltype(t)> p;
    p.x = Dev<decltype(t)>(x);
    p.positions = meta_.positions;
    p.inv_freq = F32(inv_freq);
    p.n_tokens = meta_.n_tokens;
    p.n_heads = n_heads;
    p.head_dim = head_dim;
    p.rot_dim = static_cast<int>(inv_freq.shape[0] * 2);
    Note(kc::LaunchRope(p, stream_));
  });
}

void CudaBackend::GatedAct(const TensorView& gate_up, TensorView out, GateAct act) {
  Gated(gate_up, nullptr, 0, out, act);
}

// out [m, f] = act(gate) * up: gate_up [m, 2f] fused when up is null, else gate [m, f]
// and up rows up_stride apart.
void CudaBackend::Gated(const TensorView& gate, const TensorView* up, int64_t up_stride, TensorView out,
                        GateAct act) {
  ByAct(out.dtype, [&](auto t) {
    using T = decltype(t);
    kc::SiluMulParamsT<T> p;
    p.gelu = act == GateAct::kGeluTanh;
    p.gate_up = Dev<T>(gate);
    p.out = Dev<T>(out);
    p.f = out.shape[out.shape.ndim - 1];
    p.m = out.numel() / p.f;
    if (up != nullptr) {
      p.up = Dev<T>(*up);
      p.gate_stride = p.f;
      p.up_stride = up_stride;
    }
    Note(kc::LaunchSiluMul(p, stream_));
  });
}

void CudaBackend::KvWrite(const TensorView& k, const TensorView& v, const KvLayerView& cache, int n_kv_heads,
                          int head_dim) {
  ByAct(k.dtype, [&](auto t) {
    using T = decltype(t);
    kc::KvWriteParamsT<T> p;
    p.k = Dev<T>(k);
    p.v = Dev<T>(v);
    p.k_cache = Dev<T>(cache.k);
    p.v_cache = Dev<T>(cache.v);
    p.slot_mapping = meta_.SlotsOf(cache.group);
    p.n_tokens = meta_.n_tokens;
    p.row = static_cast<int64_t>(n_kv_heads) * head_dim;
    Note(kc::LaunchKvWrite(p, stream_));
  });
}

// Every head dim the kernels serve (decode: up to 256; prompt rows: the per-token
// kernel within shared memory); sliding windows and softcaps go to the per-token and
// decode kernels, which take them.
Status CudaBackend::CheckAttention(const AttentionShape& s) const {
  AX_RETURN_IF_ERROR(Backend::CheckAttention(s));
  const int group = s.n_heads / s.n_kv_heads;
  if (!kc::AttentionUsesTiled(s.head_dim) && kc::AttentionSharedBytes(group, s.head_dim) > max_smem_)
    return Unimplemented("cuda attention: " + std::to_string(group) + " query heads per kv head of head_dim " +
                         std::to_string(s.head_dim) + " exceed the kernel's shared memory");
  return Status::Ok();
}

// MoE blocks of bf16 experts (kernels/cuda/moe.cu): the router's ids and weights are
// the CPU backend's, and each row reads its own experts (batch-invariant; prompt rows
// too). Affine-quantized experts are refused at load.
Status CudaBackend::CheckMoe(const MoeShape& s) const {
  AX_RETURN_IF_ERROR(Backend::CheckMoe(s));
  if (s.choice_bias)
    return Unimplemented(
        "cuda MoE router: the group-limited sigmoid router with a selection bias (noaux_tc, "
        "e_score_correction_bias: GLM-4.5, GLM-4.7-Flash) is not implemented on CUDA yet; use "
        "--backend cpu");
  if (!kc::RouteSupports(s.num_experts, s.top_k))
    return Unimplemented("cuda MoE router: top " + std::to_string(s.top_k) + " of " + std::to_string(s.num_experts) +
                         " experts is beyond the kernel (at most 32 of 512)");
  if (s.weights == DType::kAffine)
    return Unimplemented("cuda MoE: quantized (affine) experts are not supported yet; use bf16 weights or "
                         "--backend cpu");
  if (s.inter % 8 != 0)
    return Unimplemented("cuda MoE: expert intermediate size " + std::to_string(s.inter) +
                         " is not a multiple of 8");
  return Status::Ok();
}

// choice_bias: never given (CheckMoe refuses the noaux_tc router).
void CudaBackend::RouteTopK(const TensorView& logits, const TensorView& per_expert_scale,
                            const TensorView& /*choice_bias*/, const MoeShape& s, TensorView ids, TensorView weights) {
  kernels::RouteParams p;
  p.logits = F32(logits);
  p.n = logits.shape[0];
  p.num_experts = s.num_experts;
  p.k = s.top_k;
  p.softmax = s.softmax;
  p.normalize = s.normalize;
  p.per_expert_scale = per_expert_scale.data != nullptr ? F32(per_expert_scale) : nullptr;
  p.scale = s.scale;
  AX_CHECK(ids.dtype == DType::kI32 && weights.dtype == DType::kF32);
  p.ids = static_cast<int32_t*>(ids.data);
  p.weights = static_cast<float*>(weights.data);
  Note(kc::LaunchRoute(p, stream_));
}

void CudaBackend::MoeExperts(const TensorView& x, const TensorView& ids, const TensorView& weights,
                             const TensorView& gate_up, const TensorView& down, const MoeShape& s, TensorView scratch,
                             TensorView out, int64_t throughput_rows) {
  const int64_t n = x.shape[0], hidden = x.shape[1];
  if (gate_up.dtype != DType::kBF16 || down.dtype != DType::kBF16 || !kc::MoeExpertsSupports(hidden, s.inter)) {
    Note(Unimplemented("cuda MoeExperts: bf16 experts with hidden and intermediate sizes multiples of 8 only"));
    return;
  }
  AX_CHECK(scratch.numel() >= n * s.top_k * s.inter);
  // Prompt rows grouped per expert (eager steps only: the grouping reads the ids back).
  const int64_t prompt = moe_grouped_ && !recording_ ? std::clamp<int64_t>(throughput_rows, 0, n) : 0;
  ByAct(x.dtype, [&](auto t) {
    using T = decltype(t);
    if (prompt > 0) MoePromptRows<T>(x, ids, weights, gate_up, down, s, scratch, out, prompt);
    if (prompt == n) return;
    kc::MoeExpertsParamsT<T> p;
    p.x = Dev<const T>(x) + prompt * hidden;
    p.ids = static_cast<const int32_t*>(ids.data) + prompt * s.top_k;
    p.weights = F32(weights) + prompt * s.top_k;
    p.gate_up = Bf16(gate_up);
    p.down = Bf16(down);
    p.act = Dev<T>(scratch);
    p.out = Dev<T>(out) + prompt * hidden;
    p.n = n - prompt;
    p.hidden = hidden;
    p.inter = s.inter;
    p.k = s.top_k;
    p.act_kind = s.act;
    Note(kc::LaunchMoeExperts(p, stream_));
  });
}

// Rows [0, rows) of a MoE block, grouped per expert: the router's ids come back to the
// host (a sync; prompt steps are never recorded), each expert's rows are gathered and
// run through the prompt-row matmuls (one algorithm per shape: a row's bits do not
// depend on how many rows share its expert), and each row's k results are added in rank
// order. act: [rows * k, inter] of the caller's scratch.
template <typename T>
void CudaBackend::MoePromptRows(const TensorView& x, const TensorView& ids, const TensorView& weights,
                                const TensorView& gate_up, const TensorView& down, const MoeShape& s, TensorView act,
                                TensorView out, int64_t rows) {
  const int64_t H = x.shape[1], I = s.inter, k = s.top_k, slots = rows * k, E = s.num_experts;
  std::vector<int32_t> host(static_cast<size_t>(slots));
  Note(ReadToHost(ids, host.data(), host.size() * sizeof(int32_t)));
  if (!error_.ok()) return;
  // index = [order | inv]: order lists the slots (r·k + j) by expert, then slot; inv is
  // its inverse. first[e]: where expert e's slots begin in order.
  std::vector<int64_t> first(static_cast<size_t>(E + 1), 0);
  for (int32_t e : host) {
    if (e < 0 || e >= E) {
      Note(Internal("cuda MoE: the router gave expert " + std::to_string(e) + " of " + std::to_string(E)));
      return;
    }
    ++first[static_cast<size_t>(e) + 1];
  }
  for (int64_t e = 0; e < E; ++e) first[e + 1] += first[e];
  std::vector<int32_t> index(static_cast<size_t>(2 * slots));
  std::vector<int64_t> fill(first.begin(), first.end() - 1);
  for (int64_t slot = 0; slot < slots; ++slot) {
    const int64_t pos = fill[static_cast<size_t>(host[static_cast<size_t>(slot)])]++;
    index[static_cast<size_t>(pos)] = static_cast<int32_t>(slot);
    index[static_cast<size_t>(slots + slot)] = static_cast<int32_t>(pos);
  }
  // Scratch, grown on first use: index, gathered rows, gate/up products, y (f32).
  const size_t t_bytes = sizeof(T), align = DeviceArena::kAlign;
  const auto up = [&](size_t b) { return (b + align - 1) / align * align; };
  const size_t index_bytes = up(index.size() * sizeof(int32_t)), xg_bytes = up(slots * H * t_bytes),
               gu_bytes = up(slots * 2 * I * t_bytes), y_bytes = up(slots * H * sizeof(float));
  const size_t need = index_bytes + xg_bytes + gu_bytes + y_bytes;
  if (need > moe_scratch_bytes_) {
    auto buf = arena_.Alloc(need, "the MoE prompt rows' scratch");
    if (!buf.ok()) {
      Note(buf.status());
      return;
    }
    moe_scratch_ = static_cast<char*>(*buf);
    moe_scratch_bytes_ = need;
  }
  auto* order = reinterpret_cast<int32_t*>(moe_scratch_);
  T* xg = reinterpret_cast<T*>(moe_scratch_ + index_bytes);
  T* gu = reinterpret_cast<T*>(moe_scratch_ + index_bytes + xg_bytes);
  auto* y = reinterpret_cast<float*>(moe_scratch_ + index_bytes + xg_bytes + gu_bytes);
  Note(kc::CudaStatus(cudaMemcpyAsync(order, index.data(), index.size() * sizeof(int32_t), cudaMemcpyHostToDevice,
                                      stream_),
                      "cudaMemcpyAsync", __FILE__, __LINE__));
  Note(kc::LaunchMoeGather<T>(Dev<const T>(x), order, slots, static_cast<int>(k), H, xg, stream_));
  const DType act_dt = x.dtype;
  const auto view = [](void* p, DType dt, int64_t r, int64_t c) { return TensorView(p, dt, Shape{r, c}, Device::kCuda); };
  const auto expert = [](const TensorView& w, int64_t e, int64_t r) {  // rows [e·r, (e + 1)·r) of a stacked matrix
    return TensorView(static_cast<char*>(w.data) + e * r * w.shape[1] * static_cast<int64_t>(sizeof(uint16_t)),
                      DType::kBF16, Shape{r, w.shape[1]}, Device::kCuda);
  };
  for (int64_t e = 0; e < E; ++e) {
    const int64_t m = first[e + 1] - first[e];
    if (m > 0)
      MatmulAs<T>(view(xg + first[e] * H, act_dt, m, H), expert(gate_up, e, 2 * I),
                  view(gu + first[e] * 2 * I, act_dt, m, 2 * I), false, m);
  }
  TensorView acts = view(act.data, act_dt, slots, I);
  GatedAct(view(gu, act_dt, slots, 2 * I), acts, s.act);
  for (int64_t e = 0; e < E; ++e) {
    const int64_t m = first[e + 1] - first[e];
    if (m > 0)
      MatmulAs<T>(view(static_cast<T*>(act.data) + first[e] * I, act_dt, m, I), expert(down, e, H),
                  view(y + first[e] * H, DType::kF32, m, H), false, m);
  }
  Note(kc::LaunchMoeCombine<T>(y, order + slots, F32(weights), rows, static_cast<int>(k), H, Dev<T>(out), stream_));
}

void CudaBackend::Attention(const TensorView& q, const KvLayerView& cache, const AttentionShape& s, TensorView out) {
  if (s.n_kv_heads <= 0 || s.n_heads % s.n_kv_heads != 0) {
    Note(InvalidArgument("cuda Attention: " + std::to_string(s.n_heads) + " heads are not a multiple of " +
                         std::to_string(s.n_kv_heads) + " kv heads"));
    return;
  }
  ByAct(q.dtype, [&](auto t) { AttentionAs<decltype(t)>(q, cache, s, out); });
}

// Prompt rows (the leading n_prefill_rows) take the tensor-core prefill kernel (the
// query-tiled or per-token kernel for other shapes; f32: the per-token kernel);
// generated rows (decode, drafts) the decode kernel, whose launches depend only on the
// batch shape. Shapes the decode kernel does not serve go wholly to the other path.
template <typename T>
void CudaBackend::AttentionAs(const TensorView& q, const KvLayerView& cache, const AttentionShape& s,
                              TensorView out) {
  const int n_heads = s.n_heads, n_kv_heads = s.n_kv_heads, head_dim = s.head_dim;
  constexpr bool kBf16 = std::is_same_v<T, kc::bf16_bits>;
  kc::AttentionParamsT<T> p;
  p.q = Dev<T>(q);
  p.k_cache = Dev<T>(cache.k);
  p.v_cache = Dev<T>(cache.v);
  p.out = Dev<T>(out);
  p.positions = meta_.positions;
  p.token_seq = meta_.token_seq;
  p.block_tables = meta_.TablesOf(cache.group);
  p.partial = partial_;
  p.n_heads = n_heads;
  p.n_kv_heads = n_kv_heads;
  p.head_dim = head_dim;
  p.block_size = cache.block_size;
  p.max_blocks_per_seq = meta_.max_blocks_per_seq;
  p.scale = s.scale;
  p.window = s.window;
  p.softcap = s.softcap;
  p.q_tiles = meta_.q_tiles;
  const bool decode = kc::DecodeAttentionSupports(n_heads, n_kv_heads, head_dim);
  const int64_t prompt_rows = decode ? meta_.n_prefill_rows : meta_.n_tokens;
  // Prompt rows on tensor cores, unless a long context has too few tiles to fill the
  // GPU (the split-K tiled kernel then spreads the keys).
  const bool fill = int64_t{meta_.n_prefill_tiles} * n_heads >= props_.multiProcessorCount ||
                    meta_.max_position < kFlashMaxShortContext;
  // The tensor-core and tiled kernels have no window or softcap: such layers' prompt
  // rows take the per-token kernel.
  const bool plain = s.window == 0 && s.softcap == 0.0f;
  const bool tensor_cores =
      kBf16 && plain && decode && prompt_rows > 0 && kc::PrefillAttentionSupports(head_dim) && fill;
  if (tensor_cores) {
    if constexpr (kBf16) {
      kc::AttentionParams pp = p;
      pp.q_tiles = meta_.prefill_tiles;
      pp.n_q_tiles = meta_.n_prefill_tiles;
      pp.n_tokens = prompt_rows;
      Note(kc::LaunchPrefillAttention(pp, stream_));
    }
  } else if (prompt_rows > 0) {
    AttentionRows(p, prompt_rows, decode ? meta_.n_prompt_tiles : meta_.n_q_tiles);
  }
  if (decode && meta_.n_tokens > prompt_rows) {
    p.row_begin = prompt_rows;
    p.n_rows = meta_.n_tokens - prompt_rows;
    DecodeAttention(p);
  }
}

// Rows [0, rows) through the tiled (or per-token) kernel. Split-K only when the first
// pass's blocks (query tiles or tokens × kv heads) would leave most of the GPU idle:
// aim for two blocks per SM, at most one tile per split, and within the partials
// workspace. The split count follows the staged positions, so a recording that
// reaches here is not kept.
template <typename T>
void CudaBackend::AttentionRows(kc::AttentionParamsT<T> p, int64_t rows, int n_tiles) {
  const int group = p.n_heads / p.n_kv_heads;
  const bool tiled = kc::AttentionUsesTiled(p.head_dim) && p.window == 0 && p.softcap == 0.0f;
  if (!tiled && kc::AttentionSharedBytes(group, p.head_dim) > max_smem_) {
    Note(Unimplemented("cuda Attention: " + std::to_string(p.n_heads) + " heads / " + std::to_string(p.n_kv_heads) +
                       " kv heads of dim " + std::to_string(p.head_dim) + " exceed the kernel's shared memory"));
    return;
  }
  record_unsafe_ = true;
  p.n_tokens = rows;
  p.n_q_tiles = n_tiles;
  const int64_t blocks =
      tiled ? int64_t{n_tiles} * p.n_kv_heads * kc::AttentionHeadBlocks(group) : rows * p.n_kv_heads;
  const int64_t target = 2LL * props_.multiProcessorCount;
  const int64_t max_tiles = (meta_.max_position + kc::kAttentionTileKeys) / kc::kAttentionTileKeys;
  int64_t splits = 1;
  if (blocks < target) splits = std::min<int64_t>({(target + blocks - 1) / blocks, max_tiles, 64});
  const int64_t per_split_bytes = rows * p.n_heads * (p.head_dim + 2) * static_cast<int64_t>(sizeof(float));
  splits = std::max<int64_t>(1, std::min<int64_t>(splits, static_cast<int64_t>(kPartialBytes) / per_split_bytes));
  p.n_splits = static_cast<int>(splits);
  Note(kc::LaunchAttention(p, stream_));
}

// Rows [p.row_begin, p.row_begin + p.n_rows) through the decode kernel, in launches
// that fit the partials workspace and the split counters. The schedule follows the
// launch's rows and the staged batch's longest row (BeginForward: bucketed and part of
// the graph key when recordable); AX_CUDA_DECODE_WARPS (4 or 16) and
// AX_CUDA_DECODE_SPLITS (1 to 32) force one for experiments. A row's bits never
// depend on it.
template <typename T>
void CudaBackend::DecodeAttention(kc::AttentionParamsT<T> p) {
  const int64_t per_launch =
      std::min<int64_t>(static_cast<int64_t>(kPartialBytes / sizeof(float)) /
                            kc::DecodeAttentionPartialFloats(p.n_heads, p.head_dim),
                        static_cast<int64_t>(kSplitCounters) / p.n_kv_heads);
  AX_CHECK(per_launch > 0);
  static const int forced_warps = [] {
    const char* e = std::getenv("AX_CUDA_DECODE_WARPS");
    return e != nullptr ? std::atoi(e) : 0;
  }();
  static const int forced_splits = [] {
    const char* e = std::getenv("AX_CUDA_DECODE_SPLITS");
    return e != nullptr ? std::atoi(e) : 0;
  }();
  p.split_counters = split_counters_;
  const int64_t end = p.row_begin + p.n_rows;
  for (int64_t r0 = p.row_begin; r0 < end; r0 += per_launch) {
    p.row_begin = r0;
    p.n_rows = std::min(per_launch, end - r0);
    kc::DecodeSchedule s =
        kc::DecodeAttentionSchedule(p.n_rows, p.n_kv_heads, decode_keys_, props_.multiProcessorCount);
    if (forced_warps == 4 || forced_warps == 16) s.warps = forced_warps;
    if (forced_splits >= 1 && forced_splits <= kc::kDecodeMaxSplits) s.splits = forced_splits;
    Note(kc::LaunchDecodeAttention(p, s, stream_));
  }
}

// Fused when the kernel serves the shape (full-width RoPE, head_dim a multiple of 64).
void CudaBackend::AttentionInput(TensorView q, TensorView k, const TensorView& v, const TensorView& q_norm,
                                 const TensorView& k_norm, const TensorView& inv_freq, const KvLayerView& cache,
                                 const AttentionShape& s) {
  const int rot_dim = static_cast<int>(inv_freq.shape[0] * 2);
  const int n_heads = s.n_heads, n_kv_heads = s.n_kv_heads, head_dim = s.head_dim;
  const float eps = s.norm_eps;
  if (!kc::QkNormRopeKvSupports(head_dim, rot_dim)) {
    Backend::AttentionInput(q, k, v, q_norm, k_norm, inv_freq, cache, s);
    return;
  }
  ByAct(q.dtype, [&](auto t) {
    using T = decltype(t);
    kc::QkNormRopeKvParamsT<T> p;
    p.q = Dev<T>(q);
    p.k = Dev<T>(k);
    p.v = Dev<T>(v);
    if (q_norm.data != nullptr) {
      p.q_norm = F32(q_norm);
      p.k_norm = F32(k_norm);
    }
    p.eps = eps;
    p.positions = meta_.positions;
    p.slot_mapping = meta_.SlotsOf(cache.group);
    p.inv_freq = F32(inv_freq);
    p.k_cache = Dev<T>(cache.k);
    p.v_cache = Dev<T>(cache.v);
    p.n_tokens = meta_.n_tokens;
    p.n_heads = n_heads;
    p.n_kv_heads = n_kv_heads;
    p.head_dim = head_dim;
    Note(kc::LaunchQkNormRopeKv(p, stream_));
  });
}

void CudaBackend::GatherLogitRows(const TensorView& x, TensorView out, int64_t first) {
  AX_CHECK(first >= 0 && first + out.shape[0] <= meta_.n_logit_rows);
  ByAct(x.dtype, [&](auto t) {
    using T = decltype(t);
    kc::GatherRowsParamsT<T> p;
    p.x = Dev<T>(x);
    p.rows = meta_.logit_rows + first;
    p.out = Dev<T>(out);
    p.n_rows = out.shape[0];
    p.d = x.shape[x.shape.ndim - 1];
    Note(kc::LaunchGatherRows(p, stream_));
  });
}

}  // namespace ax
