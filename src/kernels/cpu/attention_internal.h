// Internal to attention.cpp and attention_wide.cpp: the decode tile both walk, and the
// choice between the AVX2 and AVX-512 walks.
//
// Plain data only (no inline functions, no std types): attention_wide.cpp is compiled
// for AVX-512, and an inline function or template instantiated there with wider
// instructions could be the copy the linker keeps for the AVX2 files too.
#pragma once

#include <cstdint>

#include "base/thread_pool.h"
#include "kernels/params.h"

namespace ax::kernels::cpu::detail {

// One decode tile: one query token, the nq (1..8) query heads of one kv head's group,
// over a head-major paged cache. The chunk of keys c (keys [c*chunk, (c+1)*chunk)) has
// its K rows at k + table[c]*block_elems + j*head_dim (j < chunk; V the same), in the
// cache dtype (f32, or bf16 as uint16_t).
struct DecodeTile {
  const float* q;  // [nq, head_dim]: the token's query heads h0 .. h0+nq
  float* out;      // [nq, head_dim]
  int nq;
  int32_t pos;  // the token's position: it sees keys [lo, pos]
  int32_t lo;   // lowest visible key (a sliding window), else 0
  const void* k;
  const void* v;
  const int32_t* table;
  int64_t chunk;        // block_size
  int64_t block_elems;  // block_size * n_kv_heads * head_dim
  float* o;             // scratch [8, head_dim] (running numerators)
  float* pb;            // scratch [chunk, 8] (scores, then probabilities)
};

// The tile in AVX-512 (attention_wide.cpp): bit for bit what attention.cpp's AVX2
// RunTile gives the same tile, in half the instructions (K of two keys per zmm in the
// dot products, 16 columns per zmm in the V update). REQUIRES: CpuHasAvx512Vl(),
// head_dim % 16 == 0, cache dtype f32 or bf16.
void DecodeTileWide(const AttentionParams& p, const DecodeTile& t);

// Whether Attention takes DecodeTileWide for decode tiles (once per process): where the
// processor has AVX-512 and AX_CPU_ATTN_WIDE is not 0 (A/B).
bool UseAttentionWide();
// Attention with the decode tiles forced to the AVX2 walk, or to the AVX-512 one
// (REQUIRES: CpuHasAvx512Vl()): for tests; the same bits either way.
void AttentionAvx2(const AttentionParams& p, ThreadPool& pool);
void AttentionWide(const AttentionParams& p, ThreadPool& pool);

}  // namespace ax::kernels::cpu::detail
