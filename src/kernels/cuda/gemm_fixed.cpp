// Prompt-row matmuls whose rows do not depend on the row count (see gemm.h): cuBLASLt
// with one algorithm per matrix shape, chosen once from the heuristic at a reference
// row count and then used for every m. cublasGemmEx picks its kernel (tile, split-K,
// stream-K) by m, so a prompt token prefilled alone and the same token packed with
// other prompts came out with different bits, and greedy outputs depended on the load.
// The fixed algorithm has no split-K and no reduction scheme, and needs no workspace,
// so each output element is reduced over k inside one CTA in one order whatever m is.
#include <cublasLt.h>

#include <map>
#include <mutex>
#include <string>
#include <tuple>

#include "base/log.h"
#include "kernels/cuda/gemm.h"

namespace ax::kernels::cuda {
namespace {

// The row count the heuristic is asked about: a typical prefill chunk.
constexpr int kReferenceRows = 1024;

Status LtStatus(cublasStatus_t s, const char* what) { return CublasStatus(s, what); }

struct Layouts {
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
  ~Layouts() {
    if (a != nullptr) cublasLtMatrixLayoutDestroy(a);
    if (b != nullptr) cublasLtMatrixLayoutDestroy(b);
    if (c != nullptr) cublasLtMatrixLayoutDestroy(c);
  }
};

// w as col-major [k, n] (op T), x as col-major [k, m], y as col-major [n, m].
Status MakeLayouts(int64_t m, int64_t n, int64_t k, bool y_f32, Layouts* l) {
  AX_RETURN_IF_ERROR(LtStatus(cublasLtMatrixLayoutCreate(&l->a, CUDA_R_16BF, k, n, k), "cublasLtMatrixLayoutCreate"));
  AX_RETURN_IF_ERROR(LtStatus(cublasLtMatrixLayoutCreate(&l->b, CUDA_R_16BF, k, m, k), "cublasLtMatrixLayoutCreate"));
  return LtStatus(cublasLtMatrixLayoutCreate(&l->c, y_f32 ? CUDA_R_32F : CUDA_R_16BF, n, m, n),
                  "cublasLtMatrixLayoutCreate");
}

template <typename T>
T ConfigValue(const cublasLtMatmulAlgo_t& algo, cublasLtMatmulAlgoConfigAttributes_t attr) {
  T v{};
  size_t written = 0;
  cublasLtMatmulAlgoConfigGetAttribute(&algo, attr, &v, sizeof v, &written);
  return v;
}

class FixedGemm {
 public:
  static FixedGemm& Get() {
    static FixedGemm g;
    return g;
  }

  Status Run(const MatmulParams& p, cudaStream_t stream) {
    std::lock_guard<std::mutex> lock(mu_);
    if (lt_ == nullptr) AX_RETURN_IF_ERROR(Init());
    const auto key = std::make_tuple(p.n, p.k, p.y_f32);
    auto it = algos_.find(key);
    if (it == algos_.end()) {
      cublasLtMatmulAlgo_t algo;
      AX_RETURN_IF_ERROR(Choose(p.n, p.k, p.y_f32, &algo));
      it = algos_.emplace(key, algo).first;
    }
    Layouts l;
    AX_RETURN_IF_ERROR(MakeLayouts(p.m, p.n, p.k, p.y_f32, &l));
    const float alpha = 1.0f, beta = p.accumulate ? 1.0f : 0.0f;
    return LtStatus(cublasLtMatmul(lt_, op_, &alpha, p.w, l.a, p.x, l.b, &beta, p.y, l.c, p.y, l.c, &it->second,
                                   nullptr, 0, stream),
                    "cublasLtMatmul (fixed algorithm)");
  }

 private:
  Status Init() {
    AX_RETURN_IF_ERROR(LtStatus(cublasLtCreate(&lt_), "cublasLtCreate"));
    AX_RETURN_IF_ERROR(LtStatus(cublasLtMatmulDescCreate(&op_, CUBLAS_COMPUTE_32F, CUDA_R_32F), "cublasLtMatmulDescCreate"));
    const cublasOperation_t ta = CUBLAS_OP_T, tb = CUBLAS_OP_N;
    AX_RETURN_IF_ERROR(LtStatus(cublasLtMatmulDescSetAttribute(op_, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta),
                                "cublasLtMatmulDescSetAttribute"));
    return LtStatus(cublasLtMatmulDescSetAttribute(op_, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb),
                    "cublasLtMatmulDescSetAttribute");
  }

  // The heuristic's best algorithm at kReferenceRows that reduces each element in one
  // CTA: split-K 1, no reduction scheme, no workspace.
  Status Choose(int64_t n, int64_t k, bool y_f32, cublasLtMatmulAlgo_t* out) {
    Layouts l;
    AX_RETURN_IF_ERROR(MakeLayouts(kReferenceRows, n, k, y_f32, &l));
    cublasLtMatmulPreference_t pref = nullptr;
    AX_RETURN_IF_ERROR(LtStatus(cublasLtMatmulPreferenceCreate(&pref), "cublasLtMatmulPreferenceCreate"));
    const size_t no_workspace = 0;
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &no_workspace,
                                         sizeof no_workspace);
    cublasLtMatmulHeuristicResult_t results[16];
    int count = 0;
    const cublasStatus_t s =
        cublasLtMatmulAlgoGetHeuristic(lt_, op_, l.a, l.b, l.c, l.c, pref, 16, results, &count);
    cublasLtMatmulPreferenceDestroy(pref);
    AX_RETURN_IF_ERROR(LtStatus(s, "cublasLtMatmulAlgoGetHeuristic"));
    for (int i = 0; i < count; ++i) {
      const cublasLtMatmulAlgo_t& a = results[i].algo;
      if (results[i].state != CUBLAS_STATUS_SUCCESS || results[i].workspaceSize != 0) continue;
      if (ConfigValue<int32_t>(a, CUBLASLT_ALGO_CONFIG_SPLITK_NUM) > 1) continue;
      if (ConfigValue<uint32_t>(a, CUBLASLT_ALGO_CONFIG_REDUCTION_SCHEME) != CUBLASLT_REDUCTION_SCHEME_NONE) continue;
      *out = a;
      AX_LOG_INFO("fixed prompt GEMM for [%lld x %lld]%s: algo %d, tile %d, stages %d, custom %d",
                  static_cast<long long>(n), static_cast<long long>(k), y_f32 ? " (f32 out)" : "",
                  ConfigValue<int32_t>(a, CUBLASLT_ALGO_CONFIG_ID), ConfigValue<int32_t>(a, CUBLASLT_ALGO_CONFIG_TILE_ID),
                  ConfigValue<int32_t>(a, CUBLASLT_ALGO_CONFIG_STAGES_ID),
                  ConfigValue<int32_t>(a, CUBLASLT_ALGO_CONFIG_CUSTOM_OPTION));
      return Status::Ok();
    }
    return Unimplemented("cuBLASLt offers no split-free algorithm for a [" + std::to_string(n) + " x " +
                         std::to_string(k) + "] matmul");
  }

  std::mutex mu_;
  cublasLtHandle_t lt_ = nullptr;
  cublasLtMatmulDesc_t op_ = nullptr;
  std::map<std::tuple<int64_t, int64_t, bool>, cublasLtMatmulAlgo_t> algos_;
};

}  // namespace

Status CublasMatmulFixed(const MatmulParams& p, cudaStream_t stream) {
  if (p.m == 0 || p.n == 0) return Status::Ok();
  return FixedGemm::Get().Run(p, stream);
}

}  // namespace ax::kernels::cuda
