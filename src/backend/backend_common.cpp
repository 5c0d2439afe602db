// Backend helpers that the CPU and CUDA backends share (ax_backend_core).
#include "backend/backend.h"

#include <algorithm>
#include <limits>
#include <numeric>
#include <vector>

#include "base/check.h"

namespace ax {

const char* BackendKindName(BackendKind k) {
  switch (k) {
    case BackendKind::kCpu: return "cpu";
    case BackendKind::kCuda: return "cuda";
  }
  return "?";
}

void Backend::MatmulGroup(const TensorView& x, std::span<const TensorView> w, std::span<const TensorView> y,
                          int64_t throughput_rows) {
  AX_CHECK(w.size() == y.size());
  for (size_t i = 0; i < w.size(); ++i) Matmul(x, w[i], y[i], /*accumulate=*/false, throughput_rows);
}

void Backend::MatmulGatedAct(const TensorView& x, const TensorView& w_gate_up, TensorView gate_up, TensorView out,
                             GateAct act, int64_t throughput_rows) {
  Matmul(x, w_gate_up, gate_up, /*accumulate=*/false, throughput_rows);
  GatedAct(gate_up, out, act);
}

namespace {

// The largest of v[0, n) (NaN never chosen; -inf for none), over 8 independent lanes
// so that the loop vectorises.
inline float LaneMax(const float* v, int64_t n) {
  float lane[8];
  std::fill(lane, lane + 8, -std::numeric_limits<float>::infinity());
  int64_t q = 0;
  for (; q + 8 <= n; q += 8) {
    for (int l = 0; l < 8; ++l) lane[l] = v[q + l] > lane[l] ? v[q + l] : lane[l];
  }
  float m = -std::numeric_limits<float>::infinity();
  for (; q < n; ++q) m = v[q] > m ? v[q] : m;
  for (float x : lane) m = x > m ? x : m;
  return m;
}

}  // namespace

void Backend::ArgmaxRows(const TensorView& x, TensorView ids) {
  AX_CHECK(x.dtype == DType::kF32 && ids.dtype == DType::kI32 && x.shape.ndim == 2);
  const int64_t rows = x.shape[0], n = x.shape[1];
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = x.as<float>() + r * n;
    // The max, then the first index holding it; an all-NaN row gives 0.
    const float m = LaneMax(row, n);
    int32_t best = 0;
    for (int64_t i = 0; i < n; ++i) {
      if (row[i] == m) {
        best = static_cast<int32_t>(i);
        break;
      }
    }
    ids.as<int32_t>()[r] = best;
  }
}

void Backend::TopRows(const TensorView& x, int k, TensorView ids, TensorView vals) {
  AX_CHECK(x.dtype == DType::kF32 && ids.dtype == DType::kI32 && vals.dtype == DType::kF32 && x.shape.ndim == 2);
  const int64_t rows = x.shape[0], n = x.shape[1];
  AX_CHECK(k >= 1 && k <= kMaxTopRows && k <= n);
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = x.as<float>() + r * n;
    // Canonical order; NaN ranks below everything (as -inf with a larger index would).
    auto better = [row](int32_t a, int32_t b) {
      const bool na = row[a] != row[a], nb = row[b] != row[b];
      if (na != nb) return nb;
      return row[a] > row[b] || ((row[a] == row[b] || na) && a < b);
    };
    // One pass with a k-entry heap whose top is the worst kept; a block of 32 whose
    // largest value is below that worst one is passed over after a max (the step's
    // cost is one read of the row, not a comparison per entry).
    int32_t heap[kMaxTopRows];
    int h = 0;
    for (; h < k; ++h) heap[h] = h;
    std::make_heap(heap, heap + k, better);
    constexpr int64_t kBlock = 32;
    for (int64_t j = k; j < n;) {
      const int64_t end = std::min(j + kBlock, n);
      // (a full block's length is a constant, so its max unrolls)
      const float block_max = end - j == kBlock ? LaneMax(row + j, kBlock) : LaneMax(row + j, end - j);
      if (block_max < row[heap[0]]) {
        j = end;
        continue;
      }
      for (; j < end; ++j) {
        if (better(static_cast<int32_t>(j), heap[0])) {
          std::pop_heap(heap, heap + k, better);
          heap[k - 1] = static_cast<int32_t>(j);
          std::push_heap(heap, heap + k, better);
        }
      }
    }
    std::sort_heap(heap, heap + k, better);  // ascending by `better`: best first
    for (int i = 0; i < k; ++i) {
      ids.as<int32_t>()[r * k + i] = heap[i];
      vals.as<float>()[r * k + i] = row[heap[i]];
    }
  }
}

void Backend::AttentionInput(TensorView q, TensorView k, const TensorView& v, const TensorView& q_norm,
                             const TensorView& k_norm, const TensorView& inv_freq, const KvLayerView& cache,
                             const AttentionShape& s) {
  if (q_norm.data != nullptr) {
    RmsNorm(q, q_norm, s.norm_eps, q);
    RmsNorm(k, k_norm, s.norm_eps, k);
  }
  Rope(q, s.n_heads, s.head_dim, inv_freq);
  Rope(k, s.n_kv_heads, s.head_dim, inv_freq);
  KvWrite(k, v, cache, s.n_kv_heads, s.head_dim);
}

Status Backend::CheckAttention(const AttentionShape& s) const {
  if (s.n_heads <= 0 || s.n_kv_heads <= 0 || s.n_heads % s.n_kv_heads != 0 || s.head_dim <= 0 || s.window < 0 ||
      s.softcap < 0)
    return InvalidArgument("attention shape: " + std::to_string(s.n_heads) + " heads, " +
                           std::to_string(s.n_kv_heads) + " kv heads, head_dim " + std::to_string(s.head_dim) +
                           ", window " + std::to_string(s.window));
  return Status::Ok();
}

Status Backend::CheckMoe(const MoeShape& s) const {
  if (s.num_experts <= 0 || s.top_k <= 0 || s.top_k > s.num_experts || s.inter <= 0)
    return InvalidArgument("MoE block: " + std::to_string(s.top_k) + " of " + std::to_string(s.num_experts) +
                           " experts of intermediate size " + std::to_string(s.inter));
  return Status::Ok();
}

Status Backend::CheckGatedDelta(const GatedDeltaShape& s) const {
  (void)s;
  return Unimplemented(std::string("GatedDelta linear attention (Qwen3-Next / Qwen3.5 linear_attention layers) is not "
                                   "implemented on the ") +
                       BackendKindName(kind()) + " backend yet: run this model with --backend cpu");
}

void Backend::GatedDelta(const TensorView&, const GatedDeltaWeights&, const GatedDeltaShape&, const KvLayerView&,
                         TensorView, TensorView) {
  AX_CHECK_MSG(false, "GatedDelta on a backend without it (Model::Load checks CheckGatedDelta)");
}

void Backend::SigmoidMul(const TensorView&, int64_t, TensorView, int64_t) {
  AX_CHECK_MSG(false, "SigmoidMul on a backend without it (Model::Load checks CheckGatedDelta)");
}

void Backend::RestoreState(const KvLayerView&, int, int) {
  AX_CHECK_MSG(false, "RestoreState on a backend without it (Model::Load checks CheckGatedDelta)");
}

Status Backend::CheckMla(const MlaShape& s) const {
  const std::string what = s.n_heads > 0 ? "multi-head latent attention (MLA: the latent KV cache of "
                                           "GLM-4.7-Flash / glm4_moe_lite) is"
                                         : "the noaux_tc MoE router and projection biases (GLM-4.5 / glm4_moe) are";
  return Unimplemented(what + " not implemented on the " + BackendKindName(kind()) +
                       " backend yet: run this model with --backend cpu");
}

void Backend::AddBias(TensorView, const TensorView&) {
  AX_CHECK_MSG(false, "AddBias on a backend without it (Model::Load checks CheckMla)");
}

void Backend::LatentWrite(const TensorView&, const TensorView&, const KvLayerView&, const MlaShape&) {
  AX_CHECK_MSG(false, "LatentWrite on a backend without it (Model::Load checks CheckMla)");
}

void Backend::MlaAttention(const TensorView&, const TensorView&, const KvLayerView&, const MlaShape&, TensorView) {
  AX_CHECK_MSG(false, "MlaAttention on a backend without it (Model::Load checks CheckMla)");
}

void Backend::AddRmsNorm(TensorView x, const TensorView& w, float eps, TensorView residual) {
  RmsNorm(x, w, eps, x);
  Add(x, residual);
}

Shape ConcatRowsShape(const std::vector<TensorView>& parts) {
  AX_CHECK(!parts.empty());
  Shape shape = parts[0].shape;
  int64_t rows = 0;
  for (const TensorView& p : parts) {
    AX_CHECK(p.shape.ndim == shape.ndim);
    for (int d = 1; d < shape.ndim; ++d) AX_CHECK(p.shape[d] == shape[d]);
    rows += p.shape.ndim > 0 ? p.shape[0] : 1;
  }
  if (shape.ndim > 0) shape.dims[0] = rows;
  return shape;
}

Result<AffineQuant> CommonAffineQuant(const std::vector<TensorView>& parts) {
  AX_CHECK(!parts.empty());
  AffineQuant q = parts[0].quant;
  q.scales = q.biases = nullptr;
  for (size_t i = 0; i < parts.size(); ++i) {
    const AffineQuant& pq = parts[i].quant;
    if (parts[i].dtype != DType::kAffine || pq.bits != q.bits || pq.group_size != q.group_size ||
        pq.scale_dtype != q.scale_dtype) {
      return InvalidArgument("fused weight part " + std::to_string(i) + " is " + DTypeName(parts[i].dtype) + " " +
                             std::to_string(pq.bits) + "-bit group " + std::to_string(pq.group_size) +
                             ", part 0 affine " + std::to_string(q.bits) + "-bit group " +
                             std::to_string(q.group_size) + ": parts fused at load must share one format");
    }
  }
  return q;
}

size_t AffineSideBytes(const AffineQuant& q, int64_t rows, int64_t cols) {
  return static_cast<size_t>(rows * (cols / q.group_size)) * DTypeSize(q.scale_dtype);
}

}  // namespace ax
