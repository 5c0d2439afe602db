// CudaBackend's declaration, shared by cuda_backend.cpp (device, memory, batch
// metadata) and cuda_ops.cpp (the ops). Internal to src/backend/cuda.
//
// Errors: ops return void (Backend interface), so a failed launch is kept as a sticky
// Status and returned by the next BeginForward or ReadToHost. Shapes or dtypes the
// kernels do not support are programmer errors (AX_CHECK).
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "backend/backend.h"
#include "backend/cuda/device_arena.h"
#include "base/env.h"
#include "kernels/cuda/kernels.h"

namespace ax {

class CudaBackend final : public Backend {
 public:
  // f32: the f32 precision mode (Precision::kF32), else bf16 activations and KV.
  CudaBackend(bool f32, bool row_gemm) : f32_(f32), row_gemm_(row_gemm) {}
  ~CudaBackend() override;
  Status Init(int device);

  BackendKind kind() const override { return BackendKind::kCuda; }
  std::string Describe() const override;
  DType activation_dtype() const override { return f32_ ? DType::kF32 : DType::kBF16; }
  DType kv_dtype() const override { return activation_dtype(); }

  Result<TensorView> UploadWeight(const TensorView& host, DType dtype) override;
  Result<TensorView> UploadConcatRows(const std::vector<TensorView>& parts, DType dtype) override;
  Result<TensorView> UploadAffineRows(const std::vector<TensorView>& parts, const Shape& shape);
  Result<TensorView> Alloc(DType dtype, const Shape& shape) override;
  Status ReadToHost(const TensorView& src, void* dst, size_t bytes) override;

  Status BeginForward(const BatchMeta& meta) override;
  void Embedding(const TensorView& table, float scale, TensorView out) override;
  void RmsNorm(const TensorView& x, const TensorView& w, float eps, TensorView y) override;
  void Add(const TensorView& x, TensorView y) override;
  void Softcap(TensorView x, float cap) override;
  void Scale(TensorView x, float s) override;
  void ActMul(const TensorView& gate, const TensorView& up, int64_t up_stride, TensorView out,
              GateAct act) override;
  void Matmul(const TensorView& x, const TensorView& w, TensorView y, bool accumulate,
              int64_t throughput_rows) override;
  void MatmulGroup(const TensorView& x, std::span<const TensorView> w, std::span<const TensorView> y,
                   int64_t throughput_rows) override;
  void ArgmaxRows(const TensorView& x, TensorView ids) override;
  void TopRows(const TensorView& x, int k, TensorView ids, TensorView vals) override;
  void RowMass(const TensorView& x, const TensorView& vals, int64_t first_row, TensorView mass) override;
  void ApplyPenalties(TensorView logits, int64_t first_row) override;
  void MatmulGatedAct(const TensorView& x, const TensorView& w_gate_up, TensorView gate_up, TensorView act,
                      GateAct gate_act, int64_t throughput_rows) override;
  void Rope(TensorView x, int n_heads, int head_dim, const TensorView& inv_freq) override;
  void GatedAct(const TensorView& gate_up, TensorView out, GateAct act) override;
  void KvWrite(const TensorView& k, const TensorView& v, const KvLayerView& cache, int n_kv_heads,
               int head_dim) override;
  void AttentionInput(TensorView q, TensorView k, const TensorView& v, const TensorView& q_norm,
                      const TensorView& k_norm, const TensorView& inv_freq, const KvLayerView& cache,
                      const AttentionShape& shape) override;
  void Attention(const TensorView& q, const KvLayerView& cache, const AttentionShape& shape,
                 TensorView out) override;
  Status CheckAttention(const AttentionShape& shape) const override;
  void RouteTopK(const TensorView& logits, const TensorView& per_expert_scale, const TensorView& choice_bias,
                 const MoeShape& shape, TensorView ids, TensorView weights) override;
  void MoeExperts(const TensorView& x, const TensorView& ids, const TensorView& weights, const TensorView& gate_up,
                  const TensorView& down, const MoeShape& shape, TensorView scratch, TensorView out,
                  int64_t throughput_rows) override;
  Status CheckMoe(const MoeShape& shape) const override;
  void GatherLogitRows(const TensorView& x, TensorView out, int64_t first) override;

  bool RecordsForwards() const override { return GraphsEnabled(); }
  bool ReplayForward() override;
  bool Replayed() const override { return replayed_; }
  void BeginRecord() override;
  void EndRecord() override;

 private:
  // Batch metadata, int32 each, packed into one buffer (host staging -> device). Its
  // last kPenaltyInts hold the penalties at fixed offsets (so recorded graphs keep
  // them): entries (4 ints each), then begin, repetition and presence per logit row.
  static constexpr size_t kMetaInts = size_t{2} << 20;          // 8 MiB
  static constexpr size_t kPenaltyEntryInts = static_cast<size_t>(kMaxPenaltyEntries) * 4;
  static constexpr size_t kPenaltyRowInts = static_cast<size_t>(kMaxPenaltyRows) * 4 + 4;  // begin, rep, presence
  static constexpr size_t kPenaltyInts = kPenaltyEntryInts + kPenaltyRowInts;
  static constexpr size_t kPenaltyOffset = kMetaInts - kPenaltyInts;
  static constexpr size_t kPartialBytes = size_t{32} << 20;     // attention split-K partials
  static constexpr size_t kCublasWorkspaceBytes = size_t{32} << 20;
  static constexpr size_t kMaxAttentionSmem = size_t{160} << 10;
  static constexpr size_t kReadbackBytes = size_t{64} << 20;  // pinned bounce buffer for ReadToHost
  static constexpr size_t kSplitElems = size_t{16} << 20;       // f32 mode: bf16 hi and lo GEMM inputs, each
  static constexpr size_t kSplitCounters = size_t{1} << 16;     // decode attention's per-(row, kv head) counters
  // Forward graphs: batches of generated rows only, up to this many tokens, are
  // recorded on the kRecordAt-th forward of their shape; at most kMaxGraphs are kept.
  // An instantiation costs about as much as several eager forwards of a small model, so
  // a shape seen once or twice (the tail of a batch whose requests finish a step or two
  // apart) runs eagerly.
  static constexpr int kRecordAt = 3;
  static constexpr int64_t kMaxGraphTokens = 256;  // c256 decode steps replay too
  static constexpr size_t kMaxGraphs = 64;
  // Prompt attention: below this many keys the tensor-core kernel serves even when its
  // tiles leave SMs idle.
  static constexpr int kFlashMaxShortContext = 1024;

  // What a recording depends on besides the staged values: the metadata layout and
  // every launch's grid. Block tables are staged with a power-of-two stride for it.
  // n_tokens, n_seqs, n_logit_rows, block-table stride, KV groups, argmax_only, top_k, row_mass, penalties,
  // decode attention splits.
  using GraphKey = std::tuple<int64_t, int, int64_t, int, int, bool, int, bool, bool, int>;

  struct DeviceMeta {
    const int32_t* tokens = nullptr;
    const int32_t* positions = nullptr;
    const int32_t* slots = nullptr;
    const int32_t* token_seq = nullptr;
    const int32_t* block_tables = nullptr;
    const int32_t* logit_rows = nullptr;
    const float* logit_inv_temperature = nullptr;  // [n_logit_rows] when row_mass
    LogitPenalties penalties;                      // device pointers (the fixed region)
    const int32_t* q_tiles = nullptr;  // (first row, rows) per attention query tile
    int n_q_tiles = 0;
    int n_prompt_tiles = 0;            // the leading tiles that hold prompt rows
    const int32_t* prefill_tiles = nullptr;  // prompt rows in tensor-core prefill tiles
    int n_prefill_tiles = 0;
    int64_t n_tokens = 0, n_logit_rows = 0, n_prefill_rows = 0;
    int n_seqs = 0, max_blocks_per_seq = 0;
    int n_kv_groups = 1;  // slots [group][token], block_tables [group][seq][max_blocks_per_seq]
    int max_position = 0;
    // The slots and block tables of a layer's KV group (KvLayerView::group).
    const int32_t* SlotsOf(int group) const { return slots + static_cast<int64_t>(group) * n_tokens; }
    const int32_t* TablesOf(int group) const {
      return block_tables + static_cast<int64_t>(group) * n_seqs * max_blocks_per_seq;
    }
  };

  void Note(const Status& s) {
    if (!s.ok() && error_.ok()) error_ = s;
  }
  Status CopyConverted(const TensorView& part, DType to, char* dst);
  // Stages m.penalties into the fixed region of host staging h and copies it over.
  Status StagePenalties(const BatchMeta& m, int32_t* h);
  template <typename T>
  void AttentionRows(kernels::cuda::AttentionParamsT<T> p, int64_t rows, int n_tiles);
  template <typename T>
  void DecodeAttention(kernels::cuda::AttentionParamsT<T> p);
  template <typename T>
  void MatmulAs(const TensorView& x, const TensorView& w, TensorView y, bool accumulate, int64_t throughput_rows);
  template <typename T>
  void MoePromptRows(const TensorView& x, const TensorView& ids, const TensorView& weights, const TensorView& gate_up,
                     const TensorView& down, const MoeShape& s, TensorView act, TensorView out, int64_t rows);
  template <typename T>
  void AttentionAs(const TensorView& q, const KvLayerView& cache, const AttentionShape& s, TensorView out);
  void Gated(const TensorView& gate, const TensorView* up, int64_t up_stride, TensorView out, GateAct act);
  static bool GraphsEnabled();

  const bool f32_;
  // Generated bf16 rows on the tensor-core row GEMM instead of the GEMV, for every
  // matrix it serves (BackendOptions::max_sequences).
  const bool row_gemm_;
  // bf16 prompt rows through CublasMatmulFixed: batch-invariant (on an H100 the greedy
  // ids of a request no longer change with the concurrency, at the same TTFT).
  const bool fixed_prompt_gemm_ = EnvSwitch("AX_CUDA_PROMPT_GEMM_FIXED", true);
  bool RowGemm(int64_t k, const void* x, const void* w) const { return row_gemm_ && kernels::cuda::GemmRowsSupports(k, x, w); }
  bool RowGemmSilu(int64_t f, int64_t k, const void* x, const void* w) const {
    return row_gemm_ && kernels::cuda::GemmRowsSiluSupports(f, k, x, w);
  }
  // Prompt rows of affine-quantized matmuls (bf16 activations): the matrix dequantized
  // to bf16 here, then cuBLAS; grown on first use (prompt steps are never recorded).
  uint16_t* affine_scratch_ = nullptr;
  size_t affine_scratch_elems_ = 0;
  // MoE prompt rows grouped per expert (MoePromptRows; AX_CUDA_MOE_GROUPED=0: per row
  // as generated rows are): scratch grown on first use.
  const bool moe_grouped_ = EnvSwitch("AX_CUDA_MOE_GROUPED", true);
  char* moe_scratch_ = nullptr;
  size_t moe_scratch_bytes_ = 0;
  uint16_t* split_hi_ = nullptr;  // f32 mode: kSplitElems bf16 each (CublasMatmulSplit)
  uint16_t* split_lo_ = nullptr;
  int device_ = 0;
  cudaDeviceProp props_{};
  cudaStream_t stream_ = nullptr;
  cublasHandle_t cublas_ = nullptr;
  DeviceArena arena_;
  int32_t* staging_[2] = {nullptr, nullptr};  // pinned host, kMetaInts each
  cudaEvent_t staged_[2] = {nullptr, nullptr};  // the copy out of staging_[i] finished
  int next_staging_ = 0;
  void* readback_ = nullptr;  // pinned host, kReadbackBytes
  int32_t* meta_dev_ = nullptr;
  float* partial_ = nullptr;
  int* split_counters_ = nullptr;
  size_t max_smem_ = 0;
  DeviceMeta meta_;
  int decode_keys_ = 1;         // the staged batch's longest row's keys, bucketed when recordable (BeginForward)
  std::vector<int32_t> tiles_;  // BeginForward's query tiles (kept: no allocation per step)
  Status error_;

  // Forward graphs (ReplayForward): the staged batch's key when it may be recorded.
  bool graphable_ = false;
  bool may_record_ = true;  // the staged batch's BatchMeta::record
  bool replayed_ = false;   // ReplayForward launched a recording for the staged batch
  GraphKey key_{};
  bool recording_ = false;
  bool record_unsafe_ = false;  // an op took a path whose launches depend on values
  std::map<GraphKey, cudaGraphExec_t> graphs_;
  std::map<GraphKey, int> seen_;
};

}  // namespace ax
