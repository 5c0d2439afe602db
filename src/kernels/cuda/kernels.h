// CUDA kernels of the CUDA backend: raw device pointers + one parameter struct each,
// and a launcher that enqueues on the given stream and returns the launch's Status.
// Same contracts as kernels/params.h (the scalar oracle is kernels/ref), with these
// differences: activations and the KV cache are bf16 (stored as uint16_t bit
// patterns here, so this header needs no cuda_bf16.h) or, in the backend's f32
// precision mode, f32: structs templated on the activation type T serve both (bf16
// results are rounded where Hugging Face rounds; with f32 every rounding is the
// identity). Arithmetic is f32; norm weights and inv_freq are f32; matmul weights are
// bf16 (the backend converts f32/f16 checkpoints at upload). Every output element in
// the documented range is written.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "ax/status.h"
#include "base/logit_penalty.h"
#include "kernels/params.h"  // RouteParams, GateAct

namespace ax::kernels::cuda {

using bf16_bits = uint16_t;

// out[t, :] = table[ids[t], :]                     table: [vocab, d] bf16
template <typename T>
struct EmbeddingParamsT {
  const bf16_bits* table = nullptr;
  const int32_t* ids = nullptr;  // [n], device
  T* out = nullptr;              // [n, d]
  int64_t n = 0, d = 0;
};
using EmbeddingParams = EmbeddingParamsT<bf16_bits>;

// y[m, d] = T(T(x * rsqrt(mean(x²) + eps)) * w)  (Hugging Face's rounding order; f32
// math). y may alias x.
template <typename T>
struct RmsNormParamsT {
  const T* x = nullptr;
  const float* w = nullptr;  // [d]
  T* y = nullptr;
  int64_t m = 0, d = 0;
  float eps = 1e-6f;
};
using RmsNormParams = RmsNormParamsT<bf16_bits>;

// In-place rotate_half RoPE of x [n_tokens, n_heads, head_dim]; angle
// float(positions[t]) * inv_freq[i] in f32, as Hugging Face forms it.
template <typename T>
struct RopeParamsT {
  T* x = nullptr;
  const int32_t* positions = nullptr;  // [n_tokens], device
  const float* inv_freq = nullptr;     // [rot_dim / 2]
  int64_t n_tokens = 0;
  int n_heads = 0, head_dim = 0, rot_dim = 0;
};
using RopeParams = RopeParamsT<bf16_bits>;

// out[m, f] = act(gate_up[m, :f]) * gate_up[m, f:]; act silu, or gelu_tanh when gelu.
template <typename T>
struct SiluMulParamsT {
  const T* gate_up = nullptr;  // [m, 2f]
  T* out = nullptr;            // [m, f]
  int64_t m = 0, f = 0;
  bool gelu = false;
  // With up set: out[i, j] = act(gate_up[i * gate_stride + j]) * up[i * up_stride + j].
  const T* up = nullptr;
  int64_t gate_stride = 0, up_stride = 0;
};
using SiluMulParams = SiluMulParamsT<bf16_bits>;

// cache[slot_mapping[t], :] = k[t, :] (and v); slots < 0 are skipped (padding).
// Cache rows are n_kv_heads * head_dim wide: [num_blocks * block_size, row].
template <typename T>
struct KvWriteParamsT {
  const T* k = nullptr;  // [n_tokens, row]
  const T* v = nullptr;
  T* k_cache = nullptr;
  T* v_cache = nullptr;
  const int32_t* slot_mapping = nullptr;  // [n_tokens], device
  int64_t n_tokens = 0, row = 0;
};
using KvWriteParams = KvWriteParamsT<bf16_bits>;

// out[i, :] = x[rows[i], :]
template <typename T>
struct GatherRowsParamsT {
  const T* x = nullptr;           // [*, d]
  const int32_t* rows = nullptr;  // [n_rows], device
  T* out = nullptr;               // [n_rows, d]
  int64_t n_rows = 0, d = 0;
};
using GatherRowsParams = GatherRowsParamsT<bf16_bits>;

// y[m, n] (+)= x[m, k] · w[n, k]^T, x bf16 or f32 (T), y bf16 or f32. GEMV path:
// m <= kGemvMaxRows.
template <typename T>
struct MatmulParamsT {
  const T* x = nullptr;          // [m, k] dense
  const bf16_bits* w = nullptr;  // [n, k] dense
  void* y = nullptr;             // [m, n] dense, bf16 or f32
  bool y_f32 = false;
  bool accumulate = false;
  int64_t m = 0, n = 0, k = 0;
};
using MatmulParams = MatmulParamsT<bf16_bits>;
using MatmulParamsF32 = MatmulParamsT<float>;
constexpr int64_t kGemvMaxRows = 8;

// y[i][m, n[i]] = x[m, k] · w[i][n[i], k]^T for up to kGemvMaxMats matrices of one
// input in one GEMV launch (T out, no accumulation). m <= kGemvMaxRows.
constexpr int kGemvMaxMats = 3;
template <typename T>
struct GemvGroupParamsT {
  const T* x = nullptr;  // [m, k] dense
  const bf16_bits* w[kGemvMaxMats] = {};
  T* y[kGemvMaxMats] = {};
  int64_t n[kGemvMaxMats] = {};
  int count = 0;
  int64_t m = 0, k = 0;
};
using GemvGroupParams = GemvGroupParamsT<bf16_bits>;
// k % 8 == 0, x and every w 16-byte aligned, 1 <= count <= kGemvMaxMats.
template <typename T>
bool GemvGroupSupports(const GemvGroupParamsT<T>& p);

// act[m, f] = silu(x · w[:f]^T) * (x · w[f:]^T) for a gate/up matrix w [2f, k] (gate
// rows, then up rows), m <= kGemvMaxRows, in one GEMV launch; the same bits as the GEMV
// into a T gate_up followed by SiluMul.
template <typename T>
struct GemvSiluParamsT {
  const T* x = nullptr;          // [m, k]
  const bf16_bits* w = nullptr;  // [2f, k]
  T* act = nullptr;              // [m, f]
  int64_t m = 0, f = 0, k = 0;
};
using GemvSiluParams = GemvSiluParamsT<bf16_bits>;
// f % 4 == 0, k % 8 == 0, x and w 16-byte aligned.
template <typename T>
bool GemvSiluSupports(const GemvSiluParamsT<T>& p);

// Mixture-of-experts blocks (moe.cu). Routing: kernels::RouteParams with device
// pointers, the reference's algorithm (same ids and weights).
bool RouteSupports(int num_experts, int k);  // E <= 512, k <= 32
Status LaunchRoute(const RouteParams& p, cudaStream_t stream);
// The experts (MoeParams' contract) of bf16 weights, per (row, rank) through the
// GEMV's warp dot: a row's bits never depend on the other rows. act is scratch.
template <typename T>
struct MoeExpertsParamsT {
  const T* x = nullptr;                // [n, hidden]
  const int32_t* ids = nullptr;        // [n, k]
  const float* weights = nullptr;      // [n, k]
  const bf16_bits* gate_up = nullptr;  // [E, 2 * inter, hidden]: per expert gate rows, then up rows
  const bf16_bits* down = nullptr;     // [E, hidden, inter]
  T* act = nullptr;                    // [n * k, inter] scratch
  T* out = nullptr;                    // [n, hidden]
  int64_t n = 0, hidden = 0, inter = 0;
  int k = 0;
  GateAct act_kind = GateAct::kSilu;
};
bool MoeExpertsSupports(int64_t hidden, int64_t inter);  // both multiples of 8
template <typename T>
Status LaunchMoeExperts(const MoeExpertsParamsT<T>& p, cudaStream_t stream);
// Prompt rows grouped per expert: xg[i, :] = x[order[i] / k, :] for i < slots, and
// out[r, :] = Σ_j weights[r, j] · y[inv[r·k + j], :] (j in rank order) for r < n.
template <typename T>
Status LaunchMoeGather(const T* x, const int32_t* order, int64_t slots, int k, int64_t hidden, T* xg,
                       cudaStream_t stream);
template <typename T>
Status LaunchMoeCombine(const float* y, const int32_t* inv, const float* weights, int64_t n, int k, int64_t hidden,
                        T* out, cudaStream_t stream);

// Generated rows on tensor cores (gemm_rows.cu): y[m, n] (+)= x[m, k] · w[n, k]^T for
// bf16 x and any m >= 1, in one launch. Every output element is reduced over k in one
// order that depends on k alone (four quarters of 64-element chunks, each a
// tensor-core chain in chunk order, the quarters added in order), so a row's bits are
// the same whatever m is and whatever rows share the launch. Not the GEMV's bits: a
// backend uses one or the other for a given matrix, never both.
// REQUIRES GemmRowsSupports: k % 64 == 0, x and w 16-byte aligned, an sm_90 device
// and the sm_90a build (clusters, wgmma).
bool GemmRowsSupports(int64_t k, const void* x, const void* w);
Status LaunchGemmRows(const MatmulParams& p, cudaStream_t stream);
// q/k/v of one input in one launch (each matrix as LaunchGemmRows would compute it);
// REQUIRES GemmRowsSupports for every w[i].
Status LaunchGemmRowsGroup(const GemvGroupParams& p, cudaStream_t stream);
// act[m, j] = silu(gate_j · x[m]) * (up_j · x[m]), the same bits as LaunchGemmRows into a
// bf16 gate_up followed by SiluMul. REQUIRES GemmRowsSiluSupports (also f % 64 == 0).
bool GemmRowsSiluSupports(int64_t f, int64_t k, const void* x, const void* w);
Status LaunchGemmRowsSilu(const GemvSiluParams& p, cudaStream_t stream);

// Causal GQA attention over the paged cache (see kernels/params.h AttentionParams).
// token_seq[t] is the sequence of token row t (the backend derives it from
// seq_q_begin/seq_q_len). With n_splits > 1 each (token, kv head) is split over
// n_splits key ranges (flash-decoding) whose partial results go to `partial`
// ([n_tokens * n_heads, n_splits, head_dim + 2] f32) and are merged by a second kernel.
template <typename T>
struct AttentionParamsT {
  const T* q = nullptr;        // [n_tokens, n_heads, head_dim]
  const T* k_cache = nullptr;  // [slots, n_kv_heads, head_dim]
  const T* v_cache = nullptr;
  T* out = nullptr;            // [n_tokens, n_heads, head_dim]
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
  // Sliding window: row t sees keys (positions[t] - window, positions[t]] (0: all); and
  // softcap > 0: scores s -> softcap * tanh(s / softcap). Served by the per-token and
  // the decode kernels (AttentionUsesTiled / PrefillAttentionSupports callers route
  // such layers there).
  int window = 0;
  float softcap = 0.0f;
  // LaunchDecodeAttention only: rows [row_begin, row_begin + n_rows), `partial` as
  // [n_rows, n_heads, kDecodeMaxSplits, head_dim + 2] and split_counters
  // [n_rows, n_kv_heads] (zero before the launch; the kernel leaves them zero).
  int64_t row_begin = 0, n_rows = 0;
  int* split_counters = nullptr;
};
using AttentionParams = AttentionParamsT<bf16_bits>;
using AttentionParamsF32 = AttentionParamsT<float>;
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

// Generated rows (decode tokens, drafts). A row's arithmetic follows its own keys only:
// leaves of kDecodeLeafKeys keys merged along one binary tree (attention_decode.cu), so
// any schedule gives the same bits. Serves group = n_heads / n_kv_heads <=
// kDecodeMaxGroup and head_dim <= 256 divisible by its elements per lane (the fewest
// of 1, 2, 4 or 8 that 32 lanes need to cover it).
constexpr int kDecodeLeafKeys = 8;
constexpr int kDecodeMaxSplits = 32;
constexpr int kDecodeMaxGroup = 8;
bool DecodeAttentionSupports(int n_heads, int n_kv_heads, int head_dim);
// Floats of `partial` one row needs.
int64_t DecodeAttentionPartialFloats(int n_heads, int head_dim);
// How a launch spreads its rows: warps per block (4 or 16) and blocks per (row, kv head)
// (the grid's y, 1 to kDecodeMaxSplits; a row uses as many as its leaves fill).
struct DecodeSchedule {
  int warps = 16;
  int splits = 1;
};
// The schedule for `rows` rows of up to max_keys keys on a GPU of `sms` SMs.
DecodeSchedule DecodeAttentionSchedule(int64_t rows, int n_kv_heads, int max_keys, int sms);
// Shared memory follows p.max_blocks_per_seq * p.block_size (the longest row a table holds).
Status LaunchDecodeAttention(const AttentionParams& p, DecodeSchedule s, cudaStream_t stream);
Status LaunchDecodeAttention(const AttentionParamsF32& p, DecodeSchedule s, cudaStream_t stream);

// Prompt rows on tensor cores (attention_prefill.cu): p.q_tiles hold tiles of at most
// kPrefillTileQueries consecutive prompt rows of one sequence; no splits. head_dim 64
// or 128 (AX_CUDA_ATTN=simple or =tiled turns it off).
constexpr int kPrefillTileQueries = 64;
bool PrefillAttentionSupports(int head_dim);
Status LaunchPrefillAttention(const AttentionParams& p, cudaStream_t stream);

// The attention input of one layer in one kernel: per-head RMSNorm of q and k (when
// q_norm is set; Qwen3), RoPE of both at `positions`, and the append of k and v to the
// paged cache (slots < 0 skipped). Bit-identical to LaunchRmsNorm (per head),
// LaunchRope and LaunchKvWrite in sequence. REQUIRES QkNormRopeKvSupports.
template <typename T>
struct QkNormRopeKvParamsT {
  T* q = nullptr;        // [n_tokens, n_heads, head_dim], in place
  T* k = nullptr;        // [n_tokens, n_kv_heads, head_dim], in place
  const T* v = nullptr;  // [n_tokens, n_kv_heads, head_dim]
  const float* q_norm = nullptr; // [head_dim] or null (no q/k norm)
  const float* k_norm = nullptr;
  float eps = 1e-6f;
  const int32_t* positions = nullptr;     // [n_tokens], device
  const int32_t* slot_mapping = nullptr;  // [n_tokens], device
  const float* inv_freq = nullptr;        // [head_dim / 2]
  T* k_cache = nullptr;                   // [slots, n_kv_heads, head_dim]
  T* v_cache = nullptr;
  int64_t n_tokens = 0;
  int n_heads = 0, n_kv_heads = 0, head_dim = 0;
};
using QkNormRopeKvParams = QkNormRopeKvParamsT<bf16_bits>;
// Full-width rotation and head_dim a multiple of 64 up to 256 (each lane then holds
// both halves of its rotated pairs).
inline bool QkNormRopeKvSupports(int head_dim, int rot_dim) {
  return rot_dim == head_dim && head_dim % 64 == 0 && head_dim <= 256;
}
template <typename T>
Status LaunchQkNormRopeKv(const QkNormRopeKvParamsT<T>& p, cudaStream_t stream);

// An MLX affine-quantized matrix W [n, k] (tensor/quant.h): packed codes w (rows
// k * bits / 8 bytes apart), scales / biases [n, k / group] as f32 (scale_kind 0),
// f16 (1) or bf16 (2). The part every affine kernel's params share.
struct AffineWeightParams {
  const void* w = nullptr;
  const void* scales = nullptr;
  const void* biases = nullptr;
  int scale_kind = 2;
  int bits = 4, group = 64;
};

// y[m, n] (+)= x[m, k] · W[n, k]^T for an affine-quantized W. Any m (launched 4 rows of
// x at a time); each row's sum in an order that depends on (n, k, bits) only. REQUIRES: bits 2-6
// or 8, group 32/64/128, k % group == 0, x 16-byte aligned (gemv_affine.cu).
template <typename T>
struct AffineMatmulParamsT : AffineWeightParams {
  const T* x = nullptr;  // [m, k] dense
  void* y = nullptr;  // [m, n] dense, bf16 or f32
  bool y_f32 = false;
  bool accumulate = false;
  int64_t m = 0, n = 0, k = 0;
};

// out [n, k] bf16 = W dequantized (fma(code, scale, bias) in f32, rounded once): the
// throughput path of prompt rows feeds it to cuBLAS.
struct AffineDequantParams : AffineWeightParams {
  bf16_bits* out = nullptr;
  int64_t n = 0, k = 0;
};
Status LaunchAffineDequant(const AffineDequantParams& p, cudaStream_t stream);

// out[t, :] = T(W[ids[t], :] * scale) for an affine-quantized table W [vocab, d].
template <typename T>
struct AffineEmbeddingParamsT : AffineWeightParams {
  const int32_t* ids = nullptr;  // [n], device
  T* out = nullptr;              // [n, d]
  int64_t n = 0, d = 0;
  float scale = 1.0f;
};

// Each for T = bf16_bits and T = float (instantiated in the .cu files).
template <typename T> Status LaunchAffineMatmul(const AffineMatmulParamsT<T>& p, cudaStream_t stream);
template <typename T> Status LaunchAffineEmbedding(const AffineEmbeddingParamsT<T>& p, cudaStream_t stream);
template <typename T> Status LaunchEmbedding(const EmbeddingParamsT<T>& p, cudaStream_t stream);
template <typename T> Status LaunchRmsNorm(const RmsNormParamsT<T>& p, cudaStream_t stream);
template <typename T> Status LaunchRope(const RopeParamsT<T>& p, cudaStream_t stream);
template <typename T> Status LaunchSiluMul(const SiluMulParamsT<T>& p, cudaStream_t stream);
template <typename T> Status LaunchKvWrite(const KvWriteParamsT<T>& p, cudaStream_t stream);
template <typename T> Status LaunchGatherRows(const GatherRowsParamsT<T>& p, cudaStream_t stream);
// y[i] = T(y[i] + x[i]) for i < n (pointwise.cu).
template <typename T> Status LaunchAdd(const T* x, T* y, int64_t n, cudaStream_t stream);
// x[i] = T(x[i] * s) for i < n.
template <typename T> Status LaunchScale(T* x, int64_t n, float s, cudaStream_t stream);
// x[i] = cap * tanh(x[i] / cap) for i < n (final-logit softcapping of f32 logits).
Status LaunchSoftcap(float* x, int64_t n, float cap, cudaStream_t stream);
// REQUIRES: p.m <= kGemvMaxRows. With f32 x the products are exact f32 (no rounding of x).
template <typename T> Status LaunchGemv(const MatmulParamsT<T>& p, cudaStream_t stream);
// x [n] f32 -> hi = bf16(x), lo = bf16(x - hi): hi + lo carries 16 of x's 24
// significand bits, so two bf16 tensor-core products W·hi + W·lo stand for W·x within
// about 2^-17 relative (the f32 precision mode's prompt GEMMs).
Status LaunchSplitBf16(const float* x, int64_t n, bf16_bits* hi, bf16_bits* lo, cudaStream_t stream);
template <typename T> Status LaunchGemvGroup(const GemvGroupParamsT<T>& p, cudaStream_t stream);
template <typename T> Status LaunchGemvSilu(const GemvSiluParamsT<T>& p, cudaStream_t stream);
// ids[r] = argmax of x[r, :] (x [rows, n] f32), lowest index on ties, NaN never wins.
Status LaunchArgmaxRows(const float* x, int64_t rows, int64_t n, int32_t* ids, cudaStream_t stream);
// The k best of each row of x [rows, n] f32 in canonical order (value descending, index
// ascending; NaN ranks below -inf): ids, vals [rows, k]. 1 <= k <= kTopKMax <= n.
constexpr int kTopKMax = 64;
Status LaunchTopKRows(const float* x, int64_t rows, int64_t n, int k, int32_t* ids, float* vals, cudaStream_t stream);
// PenalisedLogit on logits [rows, vocab] of logit rows first_row + r, for every entry
// of p (device pointers) of that row.
Status LaunchPenalties(float* logits, int64_t rows, int64_t vocab, int64_t first_row, const LogitPenalties& p,
                       cudaStream_t stream);
// mass[r] = sum_j exp((x[r, j] - best[r * best_stride]) * inv_t[r]) for x [rows, n]
// (kernels/params.h RowMassParams has the contract).
Status LaunchRowMass(const float* x, int64_t rows, int64_t n, const float* best, int64_t best_stride,
                     const float* inv_t, float* mass, cudaStream_t stream);
Status LaunchAttention(const AttentionParams& p, cudaStream_t stream);
// f32 q, cache and out: the same kernels in f32.
Status LaunchAttention(const AttentionParamsF32& p, cudaStream_t stream);

}  // namespace ax::kernels::cuda
