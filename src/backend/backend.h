// Backend: where tensors live and how ops run. The model graph (src/model) speaks only
// this interface, so a backend is chosen at run time (--backend auto|cpu|cuda) and no
// model or engine file includes a device header.
//
// Lifetime: everything a backend returns (weights, workspace, KV) stays valid until the
// backend is destroyed. Ops are enqueued in order on the backend's stream; ReadToHost
// waits for them. Shapes below use [rows, cols] of row-major f32 activations unless
// a dtype is named.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "ax/status.h"
#include "base/gate_act.h"
#include "base/logit_penalty.h"
#include "tensor/tensor.h"

namespace ax {

enum class BackendKind { kCpu, kCuda };
const char* BackendKindName(BackendKind k);  // "cpu", "cuda"

// Per-forward metadata, host side; the backend copies what its ops need.
// Token t belongs to exactly one sequence; sequence s owns token rows
// [seq_q_begin[s], seq_q_begin[s] + seq_q_len[s]). See docs/kv-layout.md.
struct BatchMeta {
  const int32_t* tokens = nullptr;        // [n_tokens]
  const int32_t* positions = nullptr;     // [n_tokens]
  // Per KV group g (KvLayerView::group): the KV slot of each token, and each
  // sequence's block table (-1: past its end, or released behind a window).
  const int32_t* slot_mapping = nullptr;  // [n_kv_groups, n_tokens]
  const int32_t* seq_q_begin = nullptr;   // [n_seqs]
  const int32_t* seq_q_len = nullptr;     // [n_seqs]
  const int32_t* block_tables = nullptr;  // [n_kv_groups, n_seqs, max_blocks_per_seq]
  const int32_t* logit_rows = nullptr;    // [n_logit_rows]: token rows that need logits
  const float* logit_inv_temperature = nullptr;  // [n_logit_rows], when row_mass: RowMass's 1 / T
  // The recurrent state slot of each sequence (KvLayerView::conv_state / delta_state),
  // for models with recurrent layers (GatedDelta).
  const int32_t* state_slots = nullptr;  // [n_seqs]
  // Per sequence, nonzero: keep the state after each of its rows in the slot's
  // checkpoints (a draft verification; KvLayerView::conv_ckpt).
  const int32_t* state_keep = nullptr;  // [n_seqs]
  int64_t n_tokens = 0;
  int64_t n_prefill_rows = 0;             // rows [0, n_prefill_rows) are prompt rows (see Matmul)
  int n_seqs = 0;
  int max_blocks_per_seq = 0;
  int n_kv_groups = 1;
  int64_t n_logit_rows = 0;
  bool argmax_only = false;               // the forward ends in ArgmaxRows (no logits read back)
  int top_k = 0;                          // > 0: the forward ends in TopRows(top_k) instead
  bool row_mass = false;                  // and then RowMass (top_k > 0)
  // false: a one-off step (e.g. a trial of drafting): the backend may replay a recording
  // of this shape but should not make one (a GPU graph instantiation costs milliseconds).
  bool record = true;
  // When any(): the logits rows are penalised (ApplyPenalties) before ArgmaxRows or
  // TopRows; at most kMaxPenaltyRows logit rows and kMaxPenaltyEntries entries.
  LogitPenalties penalties;
};

// One layer's paged KV cache: k, v in the backend's KV dtype and in the shape its
// KvCacheShape gives (slot-major [num_blocks, block_size, n_kv_heads, head_dim] on
// CUDA, head-major [num_blocks, n_kv_heads, block_size, head_dim] on the CPU: see
// docs/kv-layout.md). A K=V layer stores one tensor: v is a view of k. A layer that
// reads another layer's cache holds that layer's views (model/memory.h). `group`: the
// KV group whose slots and block tables address it (BatchMeta's slot_mapping and
// block_tables row).
//
// A latent layer (MLA; model/memory.h kLatent) keeps one row per token slot in k,
// [num_blocks, block_size, latent_dim + rope_dim] on every backend, and v views k.
//
// A recurrent layer (GatedDelta; model/memory.h kRecurrent) keeps no paged K/V: it
// holds one state per state slot instead, f32 on every backend: conv_state [slots,
// conv_dim, kernel - 1] (the last inputs of its causal conv) and delta_state [slots,
// v heads, dk, dv]; its group is -1. With checkpoints (draft verification), the state
// after each row but the last of a verified chunk: conv_ckpt [slots, checkpoints, conv_dim, kernel - 1]
// and delta_ckpt [slots, checkpoints, v heads * dk, dv] (empty: none).
struct KvLayerView {
  TensorView k, v;
  int block_size = 0;
  int group = 0;
  TensorView conv_state, delta_state;
  TensorView conv_ckpt, delta_ckpt;
};

// A GatedDelta linear-attention layer as the backend's ops see it (kernels/params.h
// GatedDeltaParams has the math): heads and dims, the conv kernel, and where z, b and
// a sit in the layer's fused input projection (after the conv_dim q | k | v columns).
struct GatedDeltaShape {
  int n_k_heads = 0, n_v_heads = 0, dk = 0, dv = 0, kernel = 0;
  float norm_eps = 1e-6f;
  int64_t conv_dim() const { return int64_t{2} * n_k_heads * dk + int64_t{n_v_heads} * dv; }
  int64_t z_off() const { return conv_dim(); }
  int64_t b_off() const { return conv_dim() + int64_t{n_v_heads} * dv; }
  int64_t a_off() const { return b_off() + n_v_heads; }
  int64_t proj_cols() const { return a_off() + n_v_heads; }  // the fused projection's width
};

// A GatedDelta layer's small weights, f32: conv_w [conv_dim, kernel] (Hugging Face's
// conv1d.weight [conv_dim, 1, kernel] as stored), a_log and dt_bias [n_v_heads], the
// gated RMSNorm's norm_w [dv] (a plain weight, not 1 + w).
struct GatedDeltaWeights {
  TensorView conv_w, a_log, dt_bias, norm_w;
};

// One attention layer as the backend's ops see it (model/layers/attention.h builds it
// from the architecture's per-layer description).
struct AttentionShape {
  int n_heads = 0, n_kv_heads = 0, head_dim = 0;
  int window = 0;          // sliding window: a query at p sees keys (p - window, p]; 0 = all
  float scale = 1.0f;      // on q·k (1/sqrt(head_dim), or query_pre_attn_scalar^-0.5, …)
  float softcap = 0.0f;    // attention-logit softcap: s -> softcap * tanh(s / softcap); 0 = none
  float norm_eps = 1e-6f;  // eps of the per-head q/k RMSNorm
};

// A mixture-of-experts block's routing and experts (kernels/params.h RouteParams and
// MoeParams give the exact semantics).
struct MoeShape {
  int num_experts = 0, top_k = 0;
  int64_t inter = 0;        // each expert's intermediate size
  bool softmax = true;      // router probabilities: softmax over experts, else sigmoid
  bool normalize = true;    // the top-k weights divided by their sum
  float scale = 1.0f;       // on every routed weight
  // The noaux_tc router (sigmoid only; RouteParams' choice_bias): experts chosen on the
  // scores plus a per-expert bias, among the topk_group best of n_group groups.
  bool choice_bias = false;
  int n_group = 1, topk_group = 1;
  bool masked_zero = false;  // the other groups' experts score 0 for the choice (RouteParams)
  GateAct act = GateAct::kSilu;
  DType weights = DType::kBF16;  // the experts' dtype as uploaded (kAffine when quantized)
};

// A multi-head latent attention layer as the backend's ops see it (kernels/params.h
// MlaParams has the math): heads, the latent and rope widths of a cache row, the
// query's non-rope and the value head dims, the softmax scale.
struct MlaShape {
  int n_heads = 0, latent_dim = 0, rope_dim = 0, nope_dim = 0, v_dim = 0;
  float scale = 1.0f;
};

class Backend {
 public:
  virtual ~Backend() = default;

  virtual BackendKind kind() const = 0;
  // Human-readable description: "cpu (avx2+fma+f16c, 2 threads)".
  virtual std::string Describe() const = 0;

  // Element types this backend computes with: activations (workspace buffers) and the
  // KV cache. The CPU backend computes in f32 and keeps its KV cache in bf16 (f32 with
  // --precision f32); the CUDA backend uses bf16 for both. Logits read back to the host
  // are always f32.
  virtual DType activation_dtype() const { return DType::kF32; }
  virtual DType kv_dtype() const { return DType::kF32; }
  // The shape of one layer's K (and V) cache tensor, which fixes its layout; only this
  // backend's KvWrite and Attention read it. Default: slot-major.
  virtual Shape KvCacheShape(int64_t num_blocks, int block_size, int n_kv_heads, int head_dim) const {
    return Shape{num_blocks, block_size, n_kv_heads, head_dim};
  }

  // ---- memory ---------------------------------------------------------------
  // A device copy of host weights (any of F32/F16/BF16) converted to `dtype`; kAffine
  // weights (dtype kAffine) are copied as they are, codes, scales and biases.
  virtual Result<TensorView> UploadWeight(const TensorView& host, DType dtype) = 0;
  // Host weights [r_i, c] concatenated along rows into one [sum r_i, c] weight
  // (load-time fusion, e.g. gate_proj and up_proj).
  virtual Result<TensorView> UploadConcatRows(const std::vector<TensorView>& parts, DType dtype) = 0;
  // Uninitialised device memory (workspace, KV cache).
  virtual Result<TensorView> Alloc(DType dtype, const Shape& shape) = 0;
  // Copies a device tensor (or its first `bytes`) to host memory; waits for queued ops.
  virtual Status ReadToHost(const TensorView& src, void* dst, size_t bytes) = 0;

  // ---- ops (see kernels/params.h for exact semantics) -------------------------
  // Stages the batch metadata for the ops of one forward pass.
  virtual Status BeginForward(const BatchMeta& meta) = 0;
  // out[t, :] = table[tokens[t], :] * scale for the staged batch.   out: [n_tokens, d]
  virtual void Embedding(const TensorView& table, float scale, TensorView out) = 0;
  // y[m, d] = rmsnorm(x[m, d]) * w[d]; y may alias x.
  virtual void RmsNorm(const TensorView& x, const TensorView& w, float eps, TensorView y) = 0;
  // y[m, d] += x[m, d] (a residual add).
  virtual void Add(const TensorView& x, TensorView y) = 0;
  // residual[m, d] += rmsnorm(x[m, d]) * w[d] (a post-norm "sandwich" block's output);
  // x is scratch (it may be overwritten). The default runs RmsNorm in place, then Add.
  virtual void AddRmsNorm(TensorView x, const TensorView& w, float eps, TensorView residual);
  // In place on x [rows, n] f32: x = cap * tanh(x / cap) (final-logit softcapping).
  virtual void Softcap(TensorView x, float cap) = 0;
  // x *= s.
  virtual void Scale(TensorView x, float s) = 0;
  // y[m, n] (+)= x[m, k] · w[n, k]^T. Rows [0, throughput_rows) are prompt rows and may
  // use a throughput kernel; the rest (generated tokens, drafts, logits) use a
  // batch-invariant row kernel. Each class's results must not depend on m or on the
  // other rows, so a request computes the same numbers alone or batched.
  virtual void Matmul(const TensorView& x, const TensorView& w, TensorView y, bool accumulate,
                      int64_t throughput_rows) = 0;
  // y[i] = x · w[i]^T for matrices of the same input (a layer's q, k and v
  // projections), no accumulation; rows as in Matmul. The default runs Matmul per
  // matrix; a backend may fuse them into one launch (each class of row still computes
  // the same numbers whatever it is batched with).
  virtual void MatmulGroup(const TensorView& x, std::span<const TensorView> w, std::span<const TensorView> y,
                           int64_t throughput_rows);
  // ids[r] = the index of the largest x[r, :] (x [rows, n] f32, ids [rows] i32), the
  // lowest index on ties; NaN never wins. Lets a greedy step read back token ids
  // instead of logits. The default scans host memory (the CPU backend).
  virtual void ArgmaxRows(const TensorView& x, TensorView ids);
  // The k best entries of each row of x [rows, n] f32, in canonical order (value
  // descending, index ascending; NaN ranks below -inf): ids [rows, k] i32 and vals
  // [rows, k] f32. 1 <= k <= kMaxTopRows <= n. Lets a step of top-k sampled requests
  // read back k candidates per row instead of logits. The default works in host memory.
  static constexpr int kMaxTopRows = 64;
  virtual void TopRows(const TensorView& x, int k, TensorView ids, TensorView vals);
  // mass [rows] f32: each row's sum of exp((x[r, j] - best) / T) over x [rows, n] f32,
  // where best = vals[r, 0] (TopRows' output, [rows, k]) and 1 / T is the staged
  // BatchMeta::logit_inv_temperature of logit row first_row + r. Within a relative
  // kRowMassRelError of the exact sum: with a row's best candidates it decides most
  // top-p / min-p draws (Sampler::SampleTopMass) without reading the row back.
  static constexpr double kRowMassRelError = 1e-5;
  // In place on logits [rows, vocab] f32, logit rows first_row + r: each staged
  // BatchMeta::penalties entry of row first_row + r, as PenalisedLogit computes it (the
  // same bits as Sampler::ApplyPenalties), so penalised requests can take ids or
  // candidates instead of logits.
  static constexpr int64_t kMaxPenaltyRows = 256, kMaxPenaltyEntries = int64_t{1} << 18;
  virtual void ApplyPenalties(TensorView logits, int64_t first_row) = 0;
  virtual void RowMass(const TensorView& x, const TensorView& vals, int64_t first_row, TensorView mass) = 0;
  // In-place rotate_half RoPE of x [n_tokens, n_heads, head_dim] at the staged positions.
  virtual void Rope(TensorView x, int n_heads, int head_dim, const TensorView& inv_freq) = 0;
  // out[m, f] = act(gate_up[m, :f]) * gate_up[m, f:]
  virtual void GatedAct(const TensorView& gate_up, TensorView out, GateAct act) = 0;
  // out[m, f] = act(gate[m, :]) * up[m * up_stride + :f] for gate [m, f] (dense) and up
  // rows up_stride elements apart (a column slice of a wider buffer).
  virtual void ActMul(const TensorView& gate, const TensorView& up, int64_t up_stride, TensorView out,
                      GateAct act) = 0;
  // out [m, f] = GatedAct of x · w_gate_up^T (w_gate_up [2f, k]: gate rows, then up
  // rows), with gate_up [m, 2f] as scratch; rows as in Matmul. The default runs Matmul
  // then GatedAct; a backend may fuse them (same results).
  virtual void MatmulGatedAct(const TensorView& x, const TensorView& w_gate_up, TensorView gate_up, TensorView out,
                              GateAct act, int64_t throughput_rows);
  // Writes k, v [n_tokens, n_kv_heads, head_dim] into the staged slots of the layer cache.
  virtual void KvWrite(const TensorView& k, const TensorView& v, const KvLayerView& cache,
                       int n_kv_heads, int head_dim) = 0;
  // The attention input of one layer: per-head RMSNorm of q [n_tokens, n_heads,
  // head_dim] and k with q_norm / k_norm [head_dim] (skipped when q_norm has no data),
  // RoPE of both at the staged positions, then KvWrite of k and v. The default issues
  // RmsNorm, Rope and KvWrite; a backend may fuse them with the same results.
  virtual void AttentionInput(TensorView q, TensorView k, const TensorView& v, const TensorView& q_norm,
                              const TensorView& k_norm, const TensorView& inv_freq, const KvLayerView& cache,
                              const AttentionShape& shape);
  // Causal GQA attention of q [n_tokens, n_heads, head_dim] over the layer cache, with
  // the shape's window, scale and softcap.                    out: [n_tokens, n_heads, head_dim]
  virtual void Attention(const TensorView& q, const KvLayerView& cache, const AttentionShape& shape,
                         TensorView out) = 0;
  // Whether Attention / AttentionInput serve this shape; an error names what does not
  // (a head dim without a kernel, say). Model::Load asks for every layer, so an
  // unsupported model fails at load, never with wrong numbers.
  virtual Status CheckAttention(const AttentionShape& shape) const;
  // Router of a MoE block: logits [n, E] f32 → ids [n, k] i32 (rank order) and weights
  // [n, k] f32, times per_expert_scale [E] f32 when it has data; with shape.choice_bias,
  // the noaux_tc choice on the scores plus choice_bias [E] f32 (RouteParams).
  virtual void RouteTopK(const TensorView& logits, const TensorView& per_expert_scale, const TensorView& choice_bias,
                         const MoeShape& shape, TensorView ids, TensorView weights) = 0;
  // out [n, hidden] = the routed experts of x [n, hidden]: gate_up [E * 2 * inter,
  // hidden] (per expert gate rows then up rows), down [E * hidden, inter]; rows as in
  // Matmul (each row's result independent of the others). scratch: [n * top_k, inter]
  // in the activation dtype, which a backend may use for the experts' activations.
  virtual void MoeExperts(const TensorView& x, const TensorView& ids, const TensorView& weights,
                          const TensorView& gate_up, const TensorView& down, const MoeShape& shape,
                          TensorView scratch, TensorView out, int64_t throughput_rows) = 0;
  // Whether this backend runs MoE blocks; Model::Load asks for models that have them.
  virtual Status CheckMoe(const MoeShape& shape) const;
  // The GatedDelta layer after its input projection (kernels/params.h GatedDeltaParams):
  // proj [n, shape.proj_cols()] → out [n, n_v_heads * dv], the cache's state slots of
  // the staged BatchMeta::state_slots updated in place (a sequence whose first row is
  // position 0 starts from zero state). scratch: [n, conv_dim] f32. Only on backends
  // whose CheckGatedDelta passes (the default refuses: no op runs).
  virtual void GatedDelta(const TensorView& proj, const GatedDeltaWeights& w, const GatedDeltaShape& shape,
                          const KvLayerView& state, TensorView scratch, TensorView out);
  // x [m, d] *= sigmoid(gate), gate [m, groups] (rows gate_stride elements apart, 0:
  // dense), each gate element covering d / groups consecutive elements of its row: the
  // gated attention's output gate (groups = d) and a shared expert's gate (groups = 1).
  // Only on backends whose CheckGatedDelta passes (the hybrid models' ops).
  virtual void SigmoidMul(const TensorView& gate, int64_t gate_stride, TensorView x, int64_t groups);
  // The state of `slot` becomes its checkpoint `checkpoint` (the state after that row
  // of the last forward that kept them): a rejected draft's rollback.
  virtual void RestoreState(const KvLayerView& state, int slot, int checkpoint);
  // Whether this backend runs GatedDelta layers (and SigmoidMul); Model::Load asks for
  // models that have them. The default: Unimplemented, naming the backend.
  virtual Status CheckGatedDelta(const GatedDeltaShape& shape) const;
  // x [m, d] += bias [d] f32 on every row (a projection's bias: GLM-4.5's q/k/v). Only
  // on backends whose CheckMla passes (the default refuses: no op runs).
  virtual void AddBias(TensorView x, const TensorView& bias);
  // A latent-KV layer (model/memory.h kLatent): stores latent [n, latent_dim] and the
  // roped rope [n, rope_dim] of the staged tokens in the cache's slots, one row each.
  virtual void LatentWrite(const TensorView& latent, const TensorView& rope, const KvLayerView& cache,
                           const MlaShape& shape);
  // Multi-head latent attention of q [n, n_heads, rope_dim + nope_dim] (rope part first,
  // roped) over the layer's latent cache, the up-projections kv_b [n_heads * (nope_dim
  // + v_dim), latent_dim] f32 absorbed (kernels/params.h MlaParams): out [n, n_heads,
  // v_dim]. Each row's result independent of the batch.
  virtual void MlaAttention(const TensorView& q, const TensorView& kv_b, const KvLayerView& cache,
                            const MlaShape& shape, TensorView out);
  // Whether this backend runs MLA layers of `shape`, AddBias and the noaux_tc router
  // (shape.n_heads 0: those two only); Model::Load asks for models that use them. The
  // default: Unimplemented, naming the backend.
  virtual Status CheckMla(const MlaShape& shape) const;
  // out[i, :] = x[logit_rows[first + i], :] for i < out.shape[0] (the staged batch's
  // logit rows, from `first`): logits are computed in chunks without restaging.
  virtual void GatherLogitRows(const TensorView& x, TensorView out, int64_t first) = 0;

  // ---- forward graphs (optional) ------------------------------------------------
  // A backend may record the ops of a forward once and replay the recording for later
  // batches of the same shape (a GPU backend: one graph launch instead of hundreds of
  // kernel launches). After BeginForward the model calls ReplayForward(): true means
  // the recording for the staged batch's shape ran, so the model skips its ops;
  // false means the model issues them between BeginRecord() and EndRecord(), which
  // the backend may record (and then runs). Everything between the two calls must
  // depend on the batch only through the staged metadata; ReadToHost comes after
  // EndRecord. The default never records. RecordsForwards(): whether this backend does
  // (so a caller gains from keeping to few batch shapes, e.g. the n-gram planner).
  virtual bool RecordsForwards() const { return false; }
  virtual bool ReplayForward() { return false; }
  // Whether the last staged forward ran from a recording (its time then lacks the
  // launch overhead an eager forward pays).
  virtual bool Replayed() const { return false; }
  virtual void BeginRecord() {}
  virtual void EndRecord() {}
};

// The shape of parts [r_i, ...] concatenated along rows: [sum r_i, ...].
// REQUIRES: parts non-empty, every part has the same trailing dimensions.
Shape ConcatRowsShape(const std::vector<TensorView>& parts);

// Affine-quantized parts [r_i, cols] to concatenate along rows (UploadConcatRows of
// kAffine weights): every part kAffine with the bits, group size and scale dtype of the
// first (returned, side pointers null); an error names what differs.
Result<AffineQuant> CommonAffineQuant(const std::vector<TensorView>& parts);
// Bytes of a [rows, cols] affine matrix's scales (= its biases).
size_t AffineSideBytes(const AffineQuant& q, int64_t rows, int64_t cols);

// Activation and KV-cache precision (--precision). kAuto: the backend's own (CPU f32,
// CUDA bf16, the fast path). kBF16: bf16 (CUDA only). kF32: f32 activations and KV
// cache on every backend; on CUDA an opt-in precision mode whose matmul inputs are
// exact f32 in the GEMV and split into bf16 hi + lo for the tensor-core GEMMs, so it
// agrees with the CPU backend to f32 rounding (docs/cuda-backend.md has the cost).
enum class Precision { kAuto, kBF16, kF32 };
const char* PrecisionName(Precision p);  // "auto", "bf16", "f32"
// Errors name `field` and the accepted values.
Result<Precision> ParsePrecision(const std::string& s, const std::string& field);

struct BackendOptions {
  int threads = 0;  // CPU worker threads; 0 = all the process may use
  Precision precision = Precision::kAuto;
  // The most sequences one forward will carry (the engine's max_seqs); 0 = unknown. A
  // backend picks its kernels for generated rows from this once, never by a step's row
  // count, so a row's bits do not depend on what it is batched with. CUDA: 1 (a
  // single-stream engine: one token plus its drafts per step) keeps the GEMV, fastest
  // for a few rows; anything else takes the tensor-core row GEMM (AX_CUDA_GEMM_ROWS=0
  // or 1 overrides).
  int max_sequences = 0;
};

// Creates a backend by name: "cpu", "cuda" or "auto" (CUDA when a GPU is present and
// the CUDA backend was built, else CPU). Errors say why a named backend is unavailable.
Result<std::unique_ptr<Backend>> CreateBackend(const std::string& name, const BackendOptions& opts);

}  // namespace ax
