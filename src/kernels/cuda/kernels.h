// CUDA kernels of the CUDA backend: raw device pointers + one parameter struct each,
// and a launcher that enqueues on the given stream and returns the launch's Status.
// Same contracts as kernels/params.h (the scalar oracle is kernels/ref), with these
// differences: activations and the KV cache are bf16 (stored as uint16_t bit
// patterns here, so this header needs no cuda_bf16.h); arithmetic is f32; norm
// weights and inv_freq are f32; matmul weights are bf16 (the backend converts f32/f16
// checkpoints at upload). Every output element in the documented range is written.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "ax/status.h"

namespace ax::kernels::cuda {

using bf16_bits = uint16_t;

// out[t, :] = table[ids[t], :]                     table: [vocab, d] bf16
struct EmbeddingParams {
  const bf16_bits* table = nullptr;
  const int32_t* ids = nullptr;  // [n], device
  bf16_bits* out = nullptr;      // [n, d]
  int64_t n = 0, d = 0;
};

// y[m, d] = bf16(bf16(x * rsqrt(mean(x²) + eps)) * w)  (Hugging Face's rounding order;
// f32 math). y may alias x.
struct RmsNormParams {
  const bf16_bits* x = nullptr;
  const float* w = nullptr;  // [d]
  bf16_bits* y = nullptr;
  int64_t m = 0, d = 0;
  float eps = 1e-6f;
};

// In-place rotate_half RoPE of x [n_tokens, n_heads, head_dim]; angle
// float(positions[t]) * inv_freq[i] in f32, as Hugging Face forms it.
struct RopeParams {
  bf16_bits* x = nullptr;
  const int32_t* positions = nullptr;  // [n_tokens], device
  const float* inv_freq = nullptr;     // [rot_dim / 2]
  int64_t n_tokens = 0;
  int n_heads = 0, head_dim = 0, rot_dim = 0;
};

// out[m, f] = silu(gate_up[m, :f]) * gate_up[m, f:]
struct SiluMulParams {
  const bf16_bits* gate_up = nullptr;  // [m, 2f]
  bf16_bits* out = nullptr;            // [m, f]
  int64_t m = 0, f = 0;
};

// cache[slot_mapping[t], :] = k[t, :] (and v); slots < 0 are skipped (padding).
// Cache rows are n_kv_heads * head_dim wide: [num_blocks * block_size, row].
struct KvWriteParams {
  const bf16_bits* k = nullptr;  // [n_tokens, row]
  const bf16_bits* v = nullptr;
  bf16_bits* k_cache = nullptr;
  bf16_bits* v_cache = nullptr;
  const int32_t* slot_mapping = nullptr;  // [n_tokens], device
  int64_t n_tokens = 0, row = 0;
};

// out[i, :] = x[rows[i], :]
struct GatherRowsParams {
  const bf16_bits* x = nullptr;  // [*, d]
  const int32_t* rows = nullptr; // [n_rows], device
  bf16_bits* out = nullptr;      // [n_rows, d]
  int64_t n_rows = 0, d = 0;
};

// y[m, n] (+)= x[m, k] · w[n, k]^T, y bf16 or f32. GEMV path: m <= kGemvMaxRows.
struct MatmulParams {
  const bf16_bits* x = nullptr;  // [m, k] dense
  const bf16_bits* w = nullptr;  // [n, k] dense
  void* y = nullptr;             // [m, n] dense, bf16 or f32
  bool y_f32 = false;
  bool accumulate = false;
  int64_t m = 0, n = 0, k = 0;
};
constexpr int64_t kGemvMaxRows = 8;

// Causal GQA attention over the paged cache (see kernels/params.h AttentionParams).
// token_seq[t] is the sequence of token row t (the backend derives it from
// seq_q_begin/seq_q_len). With n_splits > 1 each (token, kv head) is split over
// n_splits key ranges (flash-decoding) whose partial results go to `partial`
// ([n_tokens * n_heads, n_splits, head_dim + 2] f32) and are merged by a second kernel.
struct AttentionParams {
  const bf16_bits* q = nullptr;        // [n_tokens, n_heads, head_dim]
  const bf16_bits* k_cache = nullptr;  // [slots, n_kv_heads, head_dim]
  const bf16_bits* v_cache = nullptr;
  bf16_bits* out = nullptr;            // [n_tokens, n_heads, head_dim]
  const int32_t* positions = nullptr;  // [n_tokens], device
  const int32_t* token_seq = nullptr;  // [n_tokens], device
  const int32_t* block_tables = nullptr;  // [n_seqs, max_blocks_per_seq], device
  float* partial = nullptr;
  // Query tiles for the tiled kernel: (first token row, rows) pairs, each within one
  // sequence and at most kAttentionTileQueries rows (the backend builds them per batch).
  const int32_t* q_tiles = nullptr;  // [n_q_tiles, 2], device
  int n_q_tiles = 0;
  int64_t n_tokens = 0;
  int n_heads = 0, n_kv_heads = 0, head_dim = 0, block_size = 0, max_blocks_per_seq = 0;
  int n_splits = 1;
  float scale = 1.0f;
};
constexpr int kAttentionTileKeys = 32;
constexpr int kAttentionTileQueries = 16;
// Query heads of one kv head served by one block of the tiled kernel, and the number
// of such blocks per (query tile, kv head).
constexpr int kAttentionTiledHeads = 4;
inline int AttentionHeadBlocks(int group) { return (group + kAttentionTiledHeads - 1) / kAttentionTiledHeads; }
// The tiled kernel (query tiles x key tiles, register-blocked, head_dim 64 or 128)
// serves the shape unless AX_CUDA_ATTN=simple; the simple kernel serves every other
// head_dim (block per token and kv head).
bool AttentionUsesTiled(int head_dim);
// Bytes of dynamic shared memory the attention kernel needs for this shape.
size_t AttentionSharedBytes(int group, int head_dim);
// Once per process/device, before the first LaunchAttention: raises the kernel's
// dynamic shared-memory limit to `max_bytes`.
Status AttentionInit(size_t max_bytes);

Status LaunchEmbedding(const EmbeddingParams& p, cudaStream_t stream);
Status LaunchRmsNorm(const RmsNormParams& p, cudaStream_t stream);
Status LaunchRope(const RopeParams& p, cudaStream_t stream);
Status LaunchSiluMul(const SiluMulParams& p, cudaStream_t stream);
Status LaunchKvWrite(const KvWriteParams& p, cudaStream_t stream);
Status LaunchGatherRows(const GatherRowsParams& p, cudaStream_t stream);
Status LaunchGemv(const MatmulParams& p, cudaStream_t stream);  // REQUIRES: p.m <= kGemvMaxRows
Status LaunchAttention(const AttentionParams& p, cudaStream_t stream);

}  // namespace ax::kernels::cuda
