// AVX2 + FMA + F16C kernels, parallel over output rows on a ThreadPool.
// Same contracts as kernels/ref (kernels/params.h). Callers must check
// CpuHasAvx2Fma() first; the CPU backend falls back to kernels/ref otherwise.
#pragma once

#include <string>

#include "base/thread_pool.h"
#include "kernels/params.h"

namespace ax::kernels::cpu {

// True when this processor has AVX2, FMA and F16C.
bool CpuHasAvx2Fma();
// AVX-512F and VL (the wide GEMV, GEMM and decode attention builds).
bool CpuHasAvx512Vl();
// The paths this processor's kernels take, for Describe() and doctor:
// "avx2+fma+f16c, gemv avx512vl at m >= 3, gemm avx512 12x16, decode attention avx512"
// (REQUIRES: CpuHasAvx2Fma()).
std::string KernelPaths();

void Matmul(const MatmulParams& p, ThreadPool& pool);
// Matmul with params.kernel honoured (kAuto: as Matmul). Each explicit kernel's results
// are independent of m and of the other rows.
void MatmulWithKernel(const MatmulParams& p, ThreadPool& pool);
void RmsNorm(const RmsNormParams& p, ThreadPool& pool);
void Rope(const RopeParams& p, ThreadPool& pool);
void GatedAct(const GatedActParams& p, ThreadPool& pool);
void Softcap(const SoftcapParams& p, ThreadPool& pool);
void Add(const AddParams& p, ThreadPool& pool);
void Scale(const ScaleParams& p, ThreadPool& pool);
void Moe(const MoeParams& p, ThreadPool& pool);
void Embedding(const EmbeddingParams& p, ThreadPool& pool);
void KvWrite(const KvWriteParams& p, ThreadPool& pool);
void Attention(const AttentionParams& p, ThreadPool& pool);
void RowMass(const RowMassParams& p, ThreadPool& pool);
void GatedDelta(const GatedDeltaParams& p, ThreadPool& pool);
void SigmoidMul(const SigmoidMulParams& p, ThreadPool& pool);
// Tasks of one (row, head): each computes its output alone, in a fixed order.
void Mla(const MlaParams& p, ThreadPool& pool);

}  // namespace ax::kernels::cpu
