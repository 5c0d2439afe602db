// Kernel contracts shared by kernels/ref (scalar oracle), kernels/cpu (AVX2/FMA/F16C)
// and later kernels/cuda. Kernels take raw pointers and one parameter struct, include
// nothing of ours above base/ and tensor/dtype.h, and own no memory.
//
// Conventions: activations are f32 and row-major; weights are row-major [out, in] as
// Hugging Face stores them (nn.Linear), in f32, f16 or bf16, or MLX affine-quantized
// (DType::kAffine with its AffineQuant, tensor/dtype.h; k a multiple of the group size). Every output element in
// the documented range is written (tests poison outputs with NaN to check).
#pragma once

#include <cstdint>

#include "base/gate_act.h"
#include "tensor/dtype.h"

namespace ax::kernels {

using ax::GateAct;

// Which matmul kernel computes the rows. Both explicit kernels are batch-invariant on
// their own: an output element's value depends only on its x row, w and k — never on
// m, on the other rows or on the thread count. They differ from each other in
// summation order, so the engine gives every row a fixed class (prompt rows →
// kThroughput, generated rows → kRowInvariant) and a request's numbers never depend on
// what it was batched with.
enum class MatmulKernel {
  kAuto,          // by m: kRowInvariant for small m, kThroughput above (not invariant across the switch)
  kRowInvariant,  // per-row streaming dot products (GEMV-style): decode, drafts, logits
  kThroughput,    // packed, register-blocked GEMM: prompt chunks
};

// y[m, n] (+)= x[m, k] · w[n, k]^T
struct MatmulParams {
  const float* x = nullptr;  // [m, k], row stride ldx (elements)
  const void* w = nullptr;   // [n, k], dense, dtype w_dtype
  DType w_dtype = DType::kF32;
  AffineQuant wq;            // w_dtype kAffine
  float* y = nullptr;        // [m, n], row stride ldy (elements)
  int64_t m = 0, n = 0, k = 0;
  int64_t ldx = 0, ldy = 0;  // 0 means dense (k and n)
  bool accumulate = false;   // y += x·wᵀ instead of y = x·wᵀ (fuses the residual add)
  MatmulKernel kernel = MatmulKernel::kAuto;
};

// y[m, d] = x[m, d] * rsqrt(mean(x²) + eps) * w[d]. y may alias x.
// With residual != nullptr, first residual[m, d] += x[m, d] and normalise the sum
// (the fused residual-add + RMSNorm of a pre-norm block); x is left untouched.
struct RmsNormParams {
  const float* x = nullptr;
  float* residual = nullptr;
  const float* w = nullptr;  // [d], f32 (norm weights are converted at load)
  float* y = nullptr;
  int64_t m = 0, d = 0;
  float eps = 1e-6f;
};

// In-place rotary embedding, rotate_half (GPT-NeoX / Hugging Face) layout: for each
// token t and head h, pairs (i, i + rot_dim/2) of x[t, h, :] rotate by angle
// positions[t] * inv_freq[i]. Dimensions past rot_dim are left as they are.
struct RopeParams {
  float* x = nullptr;              // [n_tokens, n_heads, head_dim]
  const int32_t* positions = nullptr;  // [n_tokens]
  const float* inv_freq = nullptr;     // [rot_dim / 2]
  int64_t n_tokens = 0;
  int n_heads = 0, head_dim = 0, rot_dim = 0;
};

// out[m, f] = act(gate_up[m, 0:f]) * gate_up[m, f:2f]  (gate and up fused at load).
// With up set: out[i, j] = act(gate_up[i * gate_stride + j]) * up[i * up_stride + j]
// (Gemma 4's per-layer input: the gate and its multiplier live in different buffers).
struct GatedActParams {
  const float* gate_up = nullptr;  // [m, 2f]
  float* out = nullptr;            // [m, f]
  int64_t m = 0, f = 0;
  GateAct act = GateAct::kSilu;
  const float* up = nullptr;
  int64_t gate_stride = 0, up_stride = 0;  // with up
};

// x[i] *= s for i < n (Gemma 4's layer scalar and per-layer-input scales).
struct ScaleParams {
  float* x = nullptr;
  int64_t n = 0;
  float s = 1.0f;
};

// In place on x [n]: x = cap * tanh(x / cap) (Gemma's attention-logit and final-logit
// softcapping). cap > 0.
struct SoftcapParams {
  float* x = nullptr;
  int64_t n = 0;
  float cap = 0.0f;
};

// y[i] += x[i] for i < n (a residual add after a post-norm).
struct AddParams {
  const float* x = nullptr;
  float* y = nullptr;
  int64_t n = 0;
};

// out[t, :] = f32(table[ids[t], :]) * scale  (scale: Gemma's sqrt(hidden); 1 elsewhere)
struct EmbeddingParams {
  const void* table = nullptr;  // [vocab, d], dtype table_dtype
  DType table_dtype = DType::kF32;
  const int32_t* ids = nullptr;  // [n], each in [0, vocab)
  float* out = nullptr;          // [n, d]
  int64_t n = 0, d = 0, vocab = 0;
  float scale = 1.0f;
  AffineQuant table_q;  // table_dtype kAffine
};

// Paged KV cache of one layer (see docs/kv-layout.md), in one of two layouts:
//   kSlotMajor: k, v [num_blocks, block_size, n_kv_heads, head_dim]  (one slot's heads together)
//   kHeadMajor: k, v [num_blocks, n_kv_heads, block_size, head_dim]  (one head's keys of a
//               block together: decode attention streams them contiguously)
// and in f32 or bf16 (cache_dtype; KvWrite rounds to nearest even). A token's slot is
// block_id * block_size + offset; slot_mapping gives it per token.
enum class KvLayout { kSlotMajor, kHeadMajor };

// Element offset of (slot, kv head h) from the cache's base: head_dim elements follow.
inline int64_t KvRowOffset(KvLayout layout, int64_t slot, int64_t h, int n_kv_heads, int head_dim, int block_size) {
  switch (layout) {
    case KvLayout::kSlotMajor: return (slot * n_kv_heads + h) * head_dim;
    case KvLayout::kHeadMajor:
      return ((slot / block_size * n_kv_heads + h) * block_size + slot % block_size) * head_dim;
  }
  return 0;
}

struct KvWriteParams {
  const float* k = nullptr;  // [n_tokens, n_kv_heads, head_dim]
  const float* v = nullptr;
  void* k_cache = nullptr;  // cache_dtype elements, layout as above
  void* v_cache = nullptr;
  const int32_t* slot_mapping = nullptr;  // [n_tokens]
  int64_t n_tokens = 0;
  int n_kv_heads = 0, head_dim = 0;
  int block_size = 0;  // needed by kHeadMajor
  KvLayout layout = KvLayout::kSlotMajor;
  DType cache_dtype = DType::kF32;  // kF32 or kBF16
};

// Causal GQA attention of a batch of sequences over the paged cache.
// Sequence s owns query rows [seq_q_begin[s], seq_q_begin[s] + seq_q_len[s]) and its
// keys live in the blocks block_tables[s * max_blocks_per_seq + j]. Query row t at
// position positions[t] attends to cache positions [0, positions[t]] of its sequence
// (the cache must already hold them: KvWrite runs first).
// Head h of q reads kv head h / (n_heads / n_kv_heads).
// With window > 0 (a sliding-window layer) row t attends only to positions
// (positions[t] - window, positions[t]]: the last `window` keys, itself included, as
// transformers' sliding-window mask. With softcap > 0 a score s = scale * q·k becomes
// softcap * tanh(s / softcap) before the softmax.
struct AttentionParams {
  const float* q = nullptr;  // [n_tokens, n_heads, head_dim]
  const void* k_cache = nullptr;  // cache_dtype, layout: see KvWriteParams
  const void* v_cache = nullptr;
  float* out = nullptr;      // [n_tokens, n_heads, head_dim]
  const int32_t* positions = nullptr;  // [n_tokens]
  const int32_t* seq_q_begin = nullptr;  // [n_seqs]
  const int32_t* seq_q_len = nullptr;    // [n_seqs]
  const int32_t* block_tables = nullptr; // [n_seqs, max_blocks_per_seq]
  int n_seqs = 0, max_blocks_per_seq = 0;
  int n_heads = 0, n_kv_heads = 0, head_dim = 0, block_size = 0;
  float scale = 1.0f;
  int window = 0;        // 0: every earlier key
  float softcap = 0.0f;  // 0: none
  KvLayout layout = KvLayout::kSlotMajor;
  DType cache_dtype = DType::kF32;  // kF32 or kBF16
};

// mass[r] = sum_j exp((x[r, j] - best[r * best_stride]) * inv_t[r]) over rows of
// x [rows, n], best[...] being the row's largest entry (so that entry weighs 1): the
// normaliser of the row's softmax at temperature 1 / inv_t[r], what top-p sampling
// cuts against. Exact to a relative 1e-5 (Backend::kRowMassRelError); -inf entries
// weigh 0 (or below 1e-37 each in fast kernels).
struct RowMassParams {
  const float* x = nullptr;     // [rows, n]
  const float* best = nullptr;  // best[r * best_stride]
  int64_t best_stride = 1;
  const float* inv_t = nullptr;  // [rows]
  float* mass = nullptr;         // [rows]
  int64_t rows = 0, n = 0;
};

// Router of a mixture-of-experts block, per row r of logits [n, E] f32: probabilities
// (softmax over the E logits, or a sigmoid of each), the k best (probability
// descending, lowest expert id on ties) into ids [n, k] in rank order, their weights
// into weights [n, k]: divided by their sum when normalize, then times
// per_expert_scale[id] (when given) and scale.
//
// With choice_bias (DeepSeek-V3 / GLM's noaux_tc router, sigmoid only), the experts are
// chosen on the biased scores b[e] = p[e] + choice_bias[e] but weighted by the unbiased
// p[e]; the experts fall into n_group equal groups of consecutive ids, a group scores
// the sum of its two best b (its one b when a group has one expert), only the
// topk_group best groups (lowest group id on ties) may be chosen, and the k best b of
// those (lowest id on ties) are the row's experts. Worked example, E 8, n_group 4,
// topk_group 2, k 2, b = [.9 .1 | .5 .5 | .8 .3 | .2 .2]: group scores [1.0, 1.0, 1.1,
// .4] keep groups 2 and 0 (1.0 ties: group 0 before 1), ids [0, 4], weights p[0], p[4].
// The normalised sum gets 1e-20 added (transformers' denominator). Scores are formed
// in f64, so the choice of ids does not depend on the kernel or the batch. With
// masked_zero (transformers' DeepSeek-V3 and GLM-4.5 routers) the experts of the other
// groups are not excluded but score 0 for the choice: one of them is chosen (lowest id
// first) only where fewer than k experts of the kept groups have a biased score above 0.
struct RouteParams {
  const float* logits = nullptr;
  int64_t n = 0;
  int num_experts = 0, k = 0;
  bool softmax = true;
  bool normalize = true;
  const float* per_expert_scale = nullptr;  // [E] or null
  float scale = 1.0f;
  int32_t* ids = nullptr;
  float* weights = nullptr;
  const float* choice_bias = nullptr;  // [E] or null (then n_group and topk_group are 1)
  int n_group = 1, topk_group = 1;
  bool masked_zero = false;
};

// The experts of a MoE block: out[r, :] = sum over j < k, in rank order, of
// weights[r, j] * down_e(act(gate_e(x[r])) * up_e(x[r])), e = ids[r, j], with
// gate_up [E, 2*inter, hidden] (gate rows, then up rows, per expert) and down
// [E, hidden, inter] in w_dtype. A row's result depends on its own x, ids and weights
// only: rows [0, prompt_rows) use the throughput matmul, the others the row-invariant
// one (Backend::Matmul's row classes), whatever rows share an expert.
struct MoeParams {
  const float* x = nullptr;  // [n, hidden]
  int64_t n = 0, hidden = 0, inter = 0;
  const int32_t* ids = nullptr;     // [n, k]
  const float* weights = nullptr;   // [n, k]
  int k = 0, num_experts = 0;
  const void* gate_up = nullptr;
  const void* down = nullptr;
  DType w_dtype = DType::kF32;
  AffineQuant gate_up_q, down_q;  // w_dtype kAffine (the stacked [E * rows, cols] matrices)
  GateAct act = GateAct::kSilu;
  int64_t prompt_rows = 0;
  float* out = nullptr;  // [n, hidden]
};

// One GatedDelta (GatedDeltaNet) linear-attention layer over a batch of sequences,
// everything after the input projections (Qwen3-Next / Qwen3.5 linear_attention):
//
//   per sequence s (rows [seq_q_begin[s], + seq_q_len[s]), state slot slots[s]), in
//   batch order, rows in order; a sequence whose first row is at position 0 starts
//   from zero conv and delta state (a new or recomputed sequence):
//     c      = silu(causal depthwise conv of proj[t, 0:conv_dim] with conv_w [conv_dim,
//              K] over the last K inputs; conv_state holds the K - 1 inputs before t)
//     q, k   = l2norm(c[q part] / c[k part]) per k head (eps 1e-6), q *= dk^-1/2
//     v      = c[v part]                                 [n_v_heads, dv]
//     beta   = sigmoid(proj[t, b_off + h]), g = -exp(a_log[h]) * softplus(proj[t, a_off + h] + dt_bias[h])
//     per v head h (k head h / (n_v_heads / n_k_heads)):
//       S_h   = exp(g) * S_h                              S_h [dk, dv] f32
//       S_h  += k ⊗ (beta * (v - S_hᵀ k))                 the delta rule
//       o_h   = S_hᵀ q                                    [dv]
//     out[t, h] = rmsnorm(o_h) * norm_w * silu(proj[t, z_off + h*dv ..])   (gated RMSNorm)
//
// proj [n_tokens, proj_stride]: columns [0, conv_dim) the q | k | v inputs of the conv
// (q: n_k_heads * dk, k: the same, v: n_v_heads * dv), z at z_off (n_v_heads * dv), b
// at b_off and a at a_off (n_v_heads each). conv_state [slots, conv_dim, K - 1] and
// state [slots, n_v_heads, dk, dv] are updated in place; out [n_tokens, n_v_heads * dv].
// A row depends only on its sequence's earlier rows and state: batch-invariant.
// Entries with the same slot must be consecutive parts of one sequence, in order.
struct GatedDeltaParams {
  const float* proj = nullptr;
  int64_t proj_stride = 0;
  int64_t z_off = 0, b_off = 0, a_off = 0;
  const float* conv_w = nullptr;   // [conv_dim, K]
  const float* a_log = nullptr;    // [n_v_heads]
  const float* dt_bias = nullptr;  // [n_v_heads]
  const float* norm_w = nullptr;   // [dv]
  float norm_eps = 1e-6f;
  float* conv_state = nullptr;
  float* state = nullptr;
  float* out = nullptr;
  const int32_t* positions = nullptr;    // [n_tokens]
  const int32_t* seq_q_begin = nullptr;  // [n_seqs]
  const int32_t* seq_q_len = nullptr;    // [n_seqs]
  const int32_t* slots = nullptr;        // [n_seqs]
  int n_seqs = 0;
  int n_k_heads = 0, n_v_heads = 0, dk = 0, dv = 0, kernel = 0;
  float* scratch = nullptr;  // [n_tokens, conv_dim]: the conv output (kernels may use it)
  // Draft verification: a sequence with keep_rows[s] != 0 also leaves the state after
  // each of its rows i but the last (REQUIRES: seq_q_len[s] - 1 <= n_checkpoints; after
  // the last row the state is the live one) in checkpoint i of its slot — conv_ckpt
  // [slots, n_checkpoints, conv_dim, K - 1], state_ckpt [slots, n_checkpoints, n_v_heads,
  // dk, dv] — so a rejected draft's state is a copy away.
  const int32_t* keep_rows = nullptr;  // [n_seqs], or null: none
  float* conv_ckpt = nullptr;
  float* state_ckpt = nullptr;
  int n_checkpoints = 0;
  int64_t conv_dim() const { return int64_t{2} * n_k_heads * dk + int64_t{n_v_heads} * dv; }
};

// x[m, d] *= sigmoid(gate[m, g]), gate element j covering x elements [j * d/g, (j+1) * d/g)
// of its row (g == d: elementwise, g == 1: one gate per row). REQUIRES: d % g == 0.
struct SigmoidMulParams {
  const float* gate = nullptr;
  int64_t gate_stride = 0;  // elements between gate rows (0: g)
  float* x = nullptr;
  int64_t m = 0, d = 0, g = 0;
};

// Multi-head latent attention (MLA: DeepSeek-V2/V3, GLM-4.7-Flash) over a latent KV
// cache, with the up-projections absorbed so attention never expands the cache.
//
// The cache of one layer holds per token slot s one row of latent_dim + rope_dim
// elements (cache_dtype, f32 or bf16): the normalised kv latent c_s [latent_dim], then
// the roped shared key part kr_s [rope_dim]:
//   cache [num_blocks * block_size, latent_dim + rope_dim]   row s = slot s
// kv_b [n_heads * (nope_dim + v_dim), latent_dim] f32 is the checkpoint's kv_b_proj:
// per head h, nope_dim rows W_UK[h] (the keys' non-rope part from the latent), then
// v_dim rows W_UV[h] (the values). For query row t (sequence s, position p) and head h,
// q[t, h] = [q_rope (rope_dim, already roped) | q_nope (nope_dim)]:
//   q_lat   = W_UK[h]^T q_nope                                   [latent_dim]
//   score_j = scale * (q_lat . c_j + q_rope . kr_j)   for the keys j in [0, p]
//   o_lat   = sum_j softmax(score)_j c_j                          [latent_dim]
//   out[t, h] = W_UV[h] o_lat                                     [v_dim]
// which equals attention with k_j = [W_UK[h] c_j | kr_j], v_j = W_UV[h] c_j expanded
// (transformers' form) up to rounding. A row's result depends only on its q and its
// sequence's cached keys: one code path for prompt and generated rows, the same bits
// whatever the batch. Sequences, block tables and positions as AttentionParams.
struct MlaParams {
  const float* q = nullptr;               // [n_tokens, n_heads, rope_dim + nope_dim]
  const float* kv_b = nullptr;            // [n_heads * (nope_dim + v_dim), latent_dim] f32
  const void* cache = nullptr;            // [slots, latent_dim + rope_dim], cache_dtype
  DType cache_dtype = DType::kF32;        // kF32 or kBF16
  float* out = nullptr;                   // [n_tokens, n_heads, v_dim]
  const int32_t* positions = nullptr;     // [n_tokens]
  const int32_t* seq_q_begin = nullptr;   // [n_seqs]
  const int32_t* seq_q_len = nullptr;     // [n_seqs]
  const int32_t* block_tables = nullptr;  // [n_seqs, max_blocks_per_seq]
  int n_seqs = 0, max_blocks_per_seq = 0, block_size = 0;
  int n_heads = 0, latent_dim = 0, rope_dim = 0, nope_dim = 0, v_dim = 0;
  float scale = 1.0f;
  int64_t row_dim() const { return int64_t{latent_dim} + rope_dim; }
};

// Stores each token's latent [n_tokens, latent_dim] and roped key part [n_tokens,
// rope_dim] (f32) as one cache row at its slot (slot < 0: padding, nothing stored),
// rounding to cache_dtype (nearest even for bf16).
struct LatentWriteParams {
  const float* latent = nullptr;
  const float* rope = nullptr;
  void* cache = nullptr;
  DType cache_dtype = DType::kF32;
  const int32_t* slot_mapping = nullptr;  // [n_tokens]
  int64_t n_tokens = 0;
  int latent_dim = 0, rope_dim = 0;
};

}  // namespace ax::kernels
