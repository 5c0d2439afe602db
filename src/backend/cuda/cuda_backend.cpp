// CudaBackend: device selection, memory (arena, weight upload, read-back) and the
// per-forward batch metadata. The ops are in cuda_ops.cpp.
#include "backend/cuda/cuda_backend.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <tuple>

#include "backend/cuda/cuda_backend_impl.h"
#include "base/check.h"
#include "base/env.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/gemm.h"
#include "kernels/cuda/kernels.h"

namespace ax {

// Teardown errors are reported, not fatal: at process exit the CUDA runtime may
// already be unloading (cudaErrorCudartUnloading), and nothing can be done anyway.
CudaBackend::~CudaBackend() {
  if (stream_ != nullptr) AX_CUDA_WARN(cudaStreamSynchronize(stream_));
  for (auto& [key, exec] : graphs_) AX_CUDA_WARN(cudaGraphExecDestroy(exec));
  if (cublas_ != nullptr) (void)cublasDestroy(cublas_);
  for (int i = 0; i < 2; ++i) {
    if (staged_[i] != nullptr) AX_CUDA_WARN(cudaEventDestroy(staged_[i]));
    if (staging_[i] != nullptr) AX_CUDA_WARN(cudaFreeHost(staging_[i]));
  }
  if (readback_ != nullptr) AX_CUDA_WARN(cudaFreeHost(readback_));
  if (stream_ != nullptr) AX_CUDA_WARN(cudaStreamDestroy(stream_));
}

Status CudaBackend::Init(int device) {
  device_ = device;
  AX_CUDA_RETURN_IF_ERROR(cudaSetDevice(device));
  AX_CUDA_RETURN_IF_ERROR(cudaGetDeviceProperties(&props_, device));
  if (props_.major < 8) {
    return FailedPrecondition(std::string("cuda: ") + props_.name + " has compute capability " +
                              std::to_string(props_.major) + "." + std::to_string(props_.minor) +
                              "; the CUDA backend needs 8.0 or newer (bf16)");
  }
  AX_CUDA_RETURN_IF_ERROR(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  AX_RETURN_IF_ERROR(kernels::cuda::CublasStatus(cublasCreate(&cublas_), "cublasCreate"));
  AX_RETURN_IF_ERROR(kernels::cuda::CublasStatus(cublasSetStream(cublas_, stream_), "cublasSetStream"));
  for (int i = 0; i < 2; ++i) {
    void* pinned = nullptr;
    AX_CUDA_RETURN_IF_ERROR(cudaMallocHost(&pinned, kMetaInts * sizeof(int32_t)));
    staging_[i] = static_cast<int32_t*>(pinned);
    AX_CUDA_RETURN_IF_ERROR(cudaEventCreateWithFlags(&staged_[i], cudaEventDisableTiming));
    AX_CUDA_RETURN_IF_ERROR(cudaEventRecord(staged_[i], stream_));
  }
  AX_CUDA_RETURN_IF_ERROR(cudaMallocHost(&readback_, kReadbackBytes));
  AX_ASSIGN_OR_RETURN(void* meta, arena_.Alloc(kMetaInts * sizeof(int32_t), "batch metadata"));
  meta_dev_ = static_cast<int32_t*>(meta);
  AX_ASSIGN_OR_RETURN(void* partial, arena_.Alloc(kPartialBytes, "attention workspace"));
  partial_ = static_cast<float*>(partial);
  AX_ASSIGN_OR_RETURN(void* counters, arena_.Alloc(kSplitCounters * sizeof(int), "attention split counters"));
  split_counters_ = static_cast<int*>(counters);
  AX_CUDA_RETURN_IF_ERROR(cudaMemsetAsync(split_counters_, 0, kSplitCounters * sizeof(int), stream_));
  AX_ASSIGN_OR_RETURN(void* ws, arena_.Alloc(kCublasWorkspaceBytes, "cuBLAS workspace"));
  AX_RETURN_IF_ERROR(
      kernels::cuda::CublasStatus(cublasSetWorkspace(cublas_, ws, kCublasWorkspaceBytes), "cublasSetWorkspace"));
  if (f32_) {
    AX_ASSIGN_OR_RETURN(void* hi, arena_.Alloc(kSplitElems * sizeof(uint16_t), "f32-mode GEMM split (hi)"));
    AX_ASSIGN_OR_RETURN(void* lo, arena_.Alloc(kSplitElems * sizeof(uint16_t), "f32-mode GEMM split (lo)"));
    split_hi_ = static_cast<uint16_t*>(hi);
    split_lo_ = static_cast<uint16_t*>(lo);
  }
  max_smem_ = std::min(kMaxAttentionSmem, static_cast<size_t>(props_.sharedMemPerBlockOptin));
  AX_RETURN_IF_ERROR(kernels::cuda::AttentionInit(max_smem_));
  return Status::Ok();
}

std::string CudaBackend::Describe() const {
  char buf[512];
  // The generated-row kernel is part of the route: it decides a row's bits.
  std::snprintf(buf, sizeof buf, "cuda (%.255s, sm_%d%d, %d SMs, %.1f GiB, %s activations and KV, generated rows on the %s)",
                props_.name, props_.major, props_.minor, props_.multiProcessorCount,
                static_cast<double>(props_.totalGlobalMem) / (1u << 30), f32_ ? "f32" : "bf16",
                !f32_ && row_gemm_ && props_.major >= 9 ? "row GEMM" : "GEMV");
  return buf;
}

// ---- memory ------------------------------------------------------------------

Result<TensorView> CudaBackend::UploadWeight(const TensorView& host, DType dtype) {
  return UploadConcatRows({host}, dtype);
}

// Copies one host part to dst as `to`, converting on the host in chunks when needed.
Status CudaBackend::CopyConverted(const TensorView& part, DType to, char* dst) {
  const size_t n = static_cast<size_t>(part.numel());
  if (part.dtype == to) {
    AX_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(dst, part.data, n * DTypeSize(to), cudaMemcpyHostToDevice, stream_));
    AX_CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(stream_));
    return Status::Ok();
  }
  AX_CHECK_MSG(to == DType::kBF16 || to == DType::kF32, "cuda backend stores weights as bf16 or f32");
  constexpr size_t kChunk = size_t{1} << 22;
  std::vector<float> f32(std::min(n, kChunk));
  std::vector<uint16_t> bf16(to == DType::kBF16 ? std::min(n, kChunk) : 0);
  for (size_t i = 0; i < n; i += kChunk) {
    const size_t c = std::min(kChunk, n - i);
    ConvertToF32(part.dtype, static_cast<const char*>(part.data) + i * DTypeSize(part.dtype), f32.data(), c);
    const void* src = f32.data();
    if (to == DType::kBF16) {
      for (size_t j = 0; j < c; ++j) bf16[j] = F32ToBf16(f32[j]);
      src = bf16.data();
    }
    AX_CUDA_RETURN_IF_ERROR(
        cudaMemcpyAsync(dst + i * DTypeSize(to), src, c * DTypeSize(to), cudaMemcpyHostToDevice, stream_));
    AX_CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(stream_));  // the host chunk is reused
  }
  return Status::Ok();
}

Result<TensorView> CudaBackend::UploadConcatRows(const std::vector<TensorView>& parts, DType dtype) {
  const Shape shape = ConcatRowsShape(parts);
  if (dtype == DType::kAffine) return UploadAffineRows(parts, shape);
  // Matrices (embedding, projections, lm_head) are bf16 on the device whatever the
  // checkpoint stores; vectors (norm weights, inv_freq) keep the requested f32.
  const DType to = shape.ndim >= 2 ? DType::kBF16 : dtype;
  AX_ASSIGN_OR_RETURN(TensorView out, Alloc(to, shape));
  char* dst = static_cast<char*>(out.data);
  for (const TensorView& p : parts) {
    AX_RETURN_IF_ERROR(CopyConverted(p, to, dst));
    dst += static_cast<size_t>(p.numel()) * DTypeSize(to);
  }
  return out;
}

// Codes, scales and biases of affine parts, each concatenated along rows, as stored.
Result<TensorView> CudaBackend::UploadAffineRows(const std::vector<TensorView>& parts, const Shape& shape) {
  AX_ASSIGN_OR_RETURN(AffineQuant q, CommonAffineQuant(parts));
  const int64_t rows = shape[0], cols = shape[1];
  const size_t side = AffineSideBytes(q, rows, cols);
  const std::string what = "an affine " + std::to_string(q.bits) + "-bit matrix " + shape.ToString();
  AX_ASSIGN_OR_RETURN(void* codes, arena_.Alloc(static_cast<size_t>(rows * AffineRowBytes(cols, q.bits)), what));
  AX_ASSIGN_OR_RETURN(void* scales, arena_.Alloc(side, "the scales of " + what));
  AX_ASSIGN_OR_RETURN(void* biases, arena_.Alloc(side, "the biases of " + what));
  size_t at_codes = 0, at_side = 0;
  for (const TensorView& p : parts) {
    const size_t n_codes = p.nbytes(), n_side = AffineSideBytes(q, p.shape[0], cols);
    for (auto [dst, src, n] : {std::tuple{static_cast<char*>(codes) + at_codes, static_cast<const void*>(p.data), n_codes},
                               std::tuple{static_cast<char*>(scales) + at_side, p.quant.scales, n_side},
                               std::tuple{static_cast<char*>(biases) + at_side, p.quant.biases, n_side}}) {
      AX_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(dst, src, n, cudaMemcpyHostToDevice, stream_));
    }
    at_codes += n_codes;
    at_side += n_side;
  }
  AX_CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(stream_));
  TensorView out{codes, DType::kAffine, shape, Device::kCuda};
  out.quant = q;
  out.quant.scales = scales;
  out.quant.biases = biases;
  return out;
}

Result<TensorView> CudaBackend::Alloc(DType dtype, const Shape& shape) {
  const size_t bytes = static_cast<size_t>(shape.numel()) * DTypeSize(dtype);
  AX_ASSIGN_OR_RETURN(void* p, arena_.Alloc(bytes, std::string("a ") + DTypeName(dtype) + " tensor " + shape.ToString()));
  return TensorView{p, dtype, shape, Device::kCuda};
}

Status CudaBackend::ReadToHost(const TensorView& src, void* dst, size_t bytes) {
  AX_CHECK(bytes <= src.nbytes());
  if (!error_.ok()) return error_;
  // Small reads (a step's logits) bounce through pinned memory: a pageable D2H copy
  // is staged by the driver in chunks and is several times slower.
  const bool bounce = bytes <= kReadbackBytes;
  AX_CUDA_RETURN_IF_ERROR(
      cudaMemcpyAsync(bounce ? readback_ : dst, src.data, bytes, cudaMemcpyDeviceToHost, stream_));
  AX_CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(stream_));
  if (bounce) std::memcpy(dst, readback_, bytes);
  return error_;
}

// ---- batch metadata --------------------------------------------------------------

// Packs the host arrays into a pinned staging buffer and copies them to the device
// with one async copy on the stream (ordered after the previous forward's kernels).
// Two staging buffers alternate; an event guards each against reuse while its copy
// is still queued. A batch that may be recorded (generated rows only) is staged with
// its block tables at a power-of-two stride, so that every offset, and every launch
// of its ops, depends only on GraphKey.
Status CudaBackend::BeginForward(const BatchMeta& m) {
  if (!error_.ok()) return error_;
  AX_CHECK_MSG(!recording_, "cuda: BeginForward while recording a forward");
  graphable_ = GraphsEnabled() && m.n_prefill_rows == 0 && m.n_tokens > 0 && m.n_tokens <= kMaxGraphTokens;
  may_record_ = m.record;
  replayed_ = false;
  int stride = m.max_blocks_per_seq;
  int max_pos = 0;
  for (int64_t t = 0; t < m.n_tokens; ++t) max_pos = std::max(max_pos, m.positions[t]);
  // The decode attention's schedule follows the longest row's keys (DecodeAttention): a
  // recordable batch rounds them up to a power of two, part of the graph key, so a
  // recording serves every context up to its bucket (a row's bits never depend on it).
  decode_keys_ = max_pos + 1;
  if (graphable_) {
    stride = 8;
    while (stride < m.max_blocks_per_seq) stride *= 2;
    int bucket = kernels::cuda::kDecodeLeafKeys;
    while (bucket < decode_keys_) bucket *= 2;
    decode_keys_ = bucket;
    key_ = GraphKey{m.n_tokens, m.n_seqs,   m.n_logit_rows,    stride,      m.n_kv_groups, m.argmax_only,
                    m.top_k,    m.row_mass, m.penalties.any(), decode_keys_};
  }
  const auto round4 = [](size_t n) { return (n + 3) / 4 * 4; };
  // Slots and block tables come one run per KV group ([group][token], [group][seq][stride]).
  const size_t groups = static_cast<size_t>(std::max(1, m.n_kv_groups));
  const size_t nt = static_cast<size_t>(m.n_tokens);
  const size_t nb = groups * static_cast<size_t>(m.n_seqs) * static_cast<size_t>(stride);
  const size_t nl = static_cast<size_t>(m.n_logit_rows);
  const size_t off_pos = round4(nt), off_slot = off_pos + round4(nt), off_seq = off_slot + round4(groups * nt);
  // Attention query tiles: each sequence's rows in runs of kAttentionTileQueries, cut
  // where the prompt rows end (prompt tiles first).
  const int32_t prefill_rows = static_cast<int32_t>(m.n_prefill_rows);
  std::vector<int32_t>& tiles = tiles_;
  tiles.clear();
  int n_prompt_tiles = 0;
  for (int s = 0; s < m.n_seqs; ++s) {
    const int32_t end = m.seq_q_begin[s] + m.seq_q_len[s];
    for (int32_t b = m.seq_q_begin[s]; b < end;) {
      int32_t e = std::min<int32_t>(b + kernels::cuda::kAttentionTileQueries, end);
      if (b < prefill_rows) {
        e = std::min(e, prefill_rows);
        ++n_prompt_tiles;
      }
      tiles.push_back(b);
      tiles.push_back(e - b);
      b = e;
    }
  }
  // Tensor-core prefill tiles: the prompt rows of each sequence in runs of kPrefillTileQueries.
  const size_t n_tile_ints = tiles.size();
  for (int s = 0; s < m.n_seqs; ++s) {
    const int32_t end = std::min(m.seq_q_begin[s] + m.seq_q_len[s], prefill_rows);
    for (int32_t b = m.seq_q_begin[s]; b < end; b += kernels::cuda::kPrefillTileQueries) {
      tiles.push_back(b);
      tiles.push_back(std::min<int32_t>(kernels::cuda::kPrefillTileQueries, end - b));
    }
  }
  const size_t off_tab = off_seq + round4(nt), off_log = off_tab + round4(nb), off_inv = off_log + round4(nl);
  const size_t off_qt = off_inv + round4(nl);
  const size_t total = off_qt + round4(tiles.size());
  if (total > kPenaltyOffset) {
    return ResourceExhausted("cuda: batch metadata of " + std::to_string(total) + " ints exceeds the " +
                             std::to_string(kPenaltyOffset) + "-int staging buffer");
  }
  const int slot = next_staging_;
  next_staging_ ^= 1;
  AX_CUDA_RETURN_IF_ERROR(cudaEventSynchronize(staged_[slot]));
  int32_t* h = staging_[slot];
  const auto put = [&](size_t off, const int32_t* src, size_t n) {
    if (n > 0) std::memcpy(h + off, src, n * sizeof(int32_t));
  };
  put(0, m.tokens, nt);
  put(off_pos, m.positions, nt);
  put(off_slot, m.slot_mapping, groups * nt);
  if (stride == m.max_blocks_per_seq) {
    put(off_tab, m.block_tables, nb);
  } else {
    std::fill(h + off_tab, h + off_tab + nb, -1);
    const size_t rows = groups * static_cast<size_t>(m.n_seqs);  // (group, sequence) rows
    for (size_t r = 0; r < rows; ++r)
      put(off_tab + r * stride, m.block_tables + r * static_cast<size_t>(m.max_blocks_per_seq),
          static_cast<size_t>(m.max_blocks_per_seq));
  }
  put(off_log, m.logit_rows, nl);
  if (m.row_mass) {  // floats, staged in the same int buffer
    AX_CHECK(m.logit_inv_temperature != nullptr);
    std::memcpy(h + off_inv, m.logit_inv_temperature, nl * sizeof(float));
  }
  put(off_qt, tiles.data(), tiles.size());
  std::fill(h + off_seq, h + off_seq + nt, 0);
  for (int s = 0; s < m.n_seqs; ++s) {
    for (int32_t t = m.seq_q_begin[s]; t < m.seq_q_begin[s] + m.seq_q_len[s]; ++t) h[off_seq + t] = s;
  }
  AX_CUDA_RETURN_IF_ERROR(
      cudaMemcpyAsync(meta_dev_, h, total * sizeof(int32_t), cudaMemcpyHostToDevice, stream_));
  meta_.penalties = LogitPenalties{};
  if (m.penalties.any()) AX_RETURN_IF_ERROR(StagePenalties(m, h));
  AX_CUDA_RETURN_IF_ERROR(cudaEventRecord(staged_[slot], stream_));
  meta_.tokens = meta_dev_;
  meta_.positions = meta_dev_ + off_pos;
  meta_.slots = meta_dev_ + off_slot;
  meta_.token_seq = meta_dev_ + off_seq;
  meta_.block_tables = meta_dev_ + off_tab;
  meta_.logit_rows = meta_dev_ + off_log;
  meta_.logit_inv_temperature = reinterpret_cast<const float*>(meta_dev_ + off_inv);
  meta_.q_tiles = meta_dev_ + off_qt;
  meta_.n_q_tiles = static_cast<int>(n_tile_ints / 2);
  meta_.prefill_tiles = meta_.q_tiles + n_tile_ints;
  meta_.n_prefill_tiles = static_cast<int>((tiles.size() - n_tile_ints) / 2);
  meta_.n_prompt_tiles = n_prompt_tiles;
  meta_.n_tokens = m.n_tokens;
  meta_.n_logit_rows = m.n_logit_rows;
  meta_.n_prefill_rows = m.n_prefill_rows;
  meta_.n_seqs = m.n_seqs;
  meta_.max_blocks_per_seq = stride;
  meta_.n_kv_groups = static_cast<int>(groups);
  meta_.max_position = max_pos;
  return Status::Ok();
}

Status CudaBackend::StagePenalties(const BatchMeta& m, int32_t* h) {
  const LogitPenalties& p = m.penalties;
  const int64_t rows = m.n_logit_rows, entries = p.begin[rows];
  if (rows > kMaxPenaltyRows || entries > kMaxPenaltyEntries) {
    return ResourceExhausted("cuda: penalties of " + std::to_string(rows) + " logit rows and " +
                             std::to_string(entries) + " entries exceed " + std::to_string(kMaxPenaltyRows) +
                             " rows or " + std::to_string(kMaxPenaltyEntries) + " entries");
  }
  static_assert(sizeof(LogitPenalty) == 16 && kPenaltyOffset % 4 == 0);
  int32_t* base = h + kPenaltyOffset;
  int32_t* rowp = base + kPenaltyEntryInts;  // begin [rows + 1], repetition, presence (8-byte aligned)
  float* rep = reinterpret_cast<float*>(rowp + kMaxPenaltyRows + 4);
  double* presence = reinterpret_cast<double*>(rowp + 2 * kMaxPenaltyRows + 4);
  std::memcpy(base, p.entries, static_cast<size_t>(entries) * sizeof(LogitPenalty));
  std::memcpy(rowp, p.begin, static_cast<size_t>(rows + 1) * sizeof(int32_t));
  std::memcpy(rep, p.repetition, static_cast<size_t>(rows) * sizeof(float));
  std::memcpy(presence, p.presence, static_cast<size_t>(rows) * sizeof(double));
  int32_t* dev = meta_dev_ + kPenaltyOffset;
  if (entries > 0) {
    AX_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(dev, base, static_cast<size_t>(entries) * sizeof(LogitPenalty),
                                            cudaMemcpyHostToDevice, stream_));
  }
  AX_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(dev + kPenaltyEntryInts, rowp, kPenaltyRowInts * sizeof(int32_t),
                                          cudaMemcpyHostToDevice, stream_));
  meta_.penalties.entries = reinterpret_cast<const LogitPenalty*>(dev);
  meta_.penalties.begin = dev + kPenaltyEntryInts;
  meta_.penalties.repetition = reinterpret_cast<const float*>(dev + kPenaltyEntryInts + kMaxPenaltyRows + 4);
  meta_.penalties.presence = reinterpret_cast<const double*>(dev + kPenaltyEntryInts + 2 * kMaxPenaltyRows + 4);
  return Status::Ok();
}

// ---- forward graphs ----------------------------------------------------------------

bool CudaBackend::GraphsEnabled() {
  static const bool on = EnvSwitch("AX_CUDA_GRAPHS", true);
  return on;
}

bool CudaBackend::ReplayForward() {
  if (!graphable_ || !error_.ok()) return false;
  const auto it = graphs_.find(key_);
  if (it == graphs_.end()) return false;
  Note(kernels::cuda::CudaStatus(cudaGraphLaunch(it->second, stream_), "cudaGraphLaunch", __FILE__, __LINE__));
  replayed_ = true;
  return true;
}

// Records on the kRecordAt-th forward of a shape: a shape seen only once or twice (a
// one-off batch mix) is not worth an instantiation. Steps staged with record = false
// neither record nor count.
void CudaBackend::BeginRecord() {
  if (!graphable_ || !may_record_ || !error_.ok() || ++seen_[key_] < kRecordAt) return;
  if (graphs_.size() >= kMaxGraphs) {
    for (auto& [key, exec] : graphs_) AX_CUDA_WARN(cudaGraphExecDestroy(exec));
    graphs_.clear();
  }
  const cudaError_t e = cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal);
  if (e != cudaSuccess) {
    Note(kernels::cuda::CudaStatus(e, "cudaStreamBeginCapture", __FILE__, __LINE__));
    return;
  }
  recording_ = true;
  record_unsafe_ = false;
}

// Instantiates and launches the recording (nothing ran while recording); keeps it
// unless an op's launches depended on staged values.
void CudaBackend::EndRecord() {
  if (!recording_) return;
  recording_ = false;
  cudaGraph_t graph = nullptr;
  Status s = kernels::cuda::CudaStatus(cudaStreamEndCapture(stream_, &graph), "cudaStreamEndCapture", __FILE__, __LINE__);
  cudaGraphExec_t exec = nullptr;
  if (s.ok()) s = kernels::cuda::CudaStatus(cudaGraphInstantiate(&exec, graph, 0), "cudaGraphInstantiate", __FILE__, __LINE__);
  if (graph != nullptr) AX_CUDA_WARN(cudaGraphDestroy(graph));
  if (s.ok()) s = kernels::cuda::CudaStatus(cudaGraphLaunch(exec, stream_), "cudaGraphLaunch", __FILE__, __LINE__);
  Note(s);
  if (exec == nullptr) return;
  if (s.ok() && !record_unsafe_) {
    graphs_[key_] = exec;
  } else {
    AX_CUDA_WARN(cudaGraphExecDestroy(exec));  // an in-flight launch still completes
    seen_[key_] = std::numeric_limits<int>::min() / 2;  // never record this shape again
  }
}

// ---- factory ---------------------------------------------------------------------

Result<std::unique_ptr<Backend>> CreateCudaBackend(const BackendOptions& opts, std::string* why) {
  auto fail = [&](Status s) -> Result<std::unique_ptr<Backend>> {
    if (why != nullptr) *why = s.message();
    return s;
  };
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    (void)cudaGetLastError();  // clear the sticky "no driver" error
    return fail(FailedPrecondition(std::string("cuda: no usable CUDA driver or device (") + cudaGetErrorString(e) +
                                   ")"));
  }
  if (count == 0) return fail(FailedPrecondition("cuda: no CUDA device found"));
  const bool row_gemm = EnvSwitch("AX_CUDA_GEMM_ROWS", opts.max_sequences != 1);
  auto backend = std::make_unique<CudaBackend>(opts.precision == Precision::kF32, row_gemm);
  Status s = backend->Init(0);
  if (!s.ok()) return fail(s);
  return std::unique_ptr<Backend>(std::move(backend));
}

}  // namespace ax
