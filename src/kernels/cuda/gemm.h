// cuBLAS matmul for m > kGemvMaxRows (prefill chunks, batched decode): y[m, n] (+)=
// x[m, k] · w[n, k]^T with bf16 operands, f32 accumulation (tensor cores) and a bf16
// or f32 output, through cublasGemmEx. Row-major y = x·wᵀ is column-major
// yᵀ[n, m] = (w as col-major [k, n])ᵀ · (x as col-major [k, m]): op(A) = T, op(B) = N.
#pragma once

#include <cublas_v2.h>

#include "ax/status.h"
#include "kernels/cuda/kernels.h"

namespace ax::kernels::cuda {

// Status of a cuBLAS call, naming it: Internal("cublasGemmEx: CUBLAS_STATUS_...").
Status CublasStatus(cublasStatus_t s, const char* what);

// REQUIRES: `handle` is bound to the caller's stream (cublasSetStream).
Status CublasMatmul(cublasHandle_t handle, const MatmulParams& p);

// The same product through cuBLASLt with one algorithm per (n, k, output type), chosen
// once and used for every m (gemm_fixed.cpp): no split-K, no workspace, so a row's bits
// do not depend on how many rows share the call. Runs on `stream`.
Status CublasMatmulFixed(const MatmulParams& p, cudaStream_t stream);

// f32 x (the f32 precision mode), f32 y: each chunk of rows is split into bf16 hi + lo
// (LaunchSplitBf16) in the scratch hi/lo (scratch_elems elements each) and y (+)=
// W·hi + W·lo by two tensor-core GEMMs: within about 2^-17 of W·x relative, at twice
// the GEMM cost. REQUIRES: handle bound to `stream`, p.y_f32, p.k <= scratch_elems.
Status CublasMatmulSplit(cublasHandle_t handle, const MatmulParamsF32& p, bf16_bits* hi, bf16_bits* lo,
                         int64_t scratch_elems, cudaStream_t stream);

}  // namespace ax::kernels::cuda
