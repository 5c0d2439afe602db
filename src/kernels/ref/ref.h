// Scalar reference kernels: plain loops with f64 accumulation where it matters.
// The oracle every fast kernel is tested against; not used on a hot path.
#pragma once

#include "kernels/params.h"

namespace ax::kernels::ref {

void Matmul(const MatmulParams& p);
void RmsNorm(const RmsNormParams& p);
void Rope(const RopeParams& p);
void GatedAct(const GatedActParams& p);
void Softcap(const SoftcapParams& p);
void Add(const AddParams& p);
void Scale(const ScaleParams& p);
void Route(const RouteParams& p);
void Moe(const MoeParams& p);
void Embedding(const EmbeddingParams& p);
void KvWrite(const KvWriteParams& p);
void Attention(const AttentionParams& p);
void RowMass(const RowMassParams& p);
void GatedDelta(const GatedDeltaParams& p);
void SigmoidMul(const SigmoidMulParams& p);
void Mla(const MlaParams& p);
void LatentWrite(const LatentWriteParams& p);

}  // namespace ax::kernels::ref
