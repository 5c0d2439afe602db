#include "backend/cpu/cpu_backend.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "base/check.h"
#include "base/env.h"
#include "base/thread_pool.h"
#include "kernels/cpu/cpu.h"
#include "kernels/ref/ref.h"

namespace ax {
namespace {

std::string GiB(size_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f GiB", static_cast<double>(bytes) / (1u << 30));
  return buf;
}

// What the kernel can still give this process: /proc/meminfo's MemAvailable, capped by
// the cgroup's memory.max - memory.current when a limit is set. 0 when unknown.
size_t AvailableHostBytes() {
  size_t avail = 0;
  std::ifstream meminfo("/proc/meminfo");
  for (std::string line; std::getline(meminfo, line);)
    if (line.rfind("MemAvailable:", 0) == 0) avail = std::strtoull(line.c_str() + 13, nullptr, 10) * 1024;
  std::ifstream max_f("/sys/fs/cgroup/memory.max"), cur_f("/sys/fs/cgroup/memory.current");
  std::string max_s;
  size_t cur = 0;
  if (max_f >> max_s && max_s != "max" && cur_f >> cur) {
    const size_t limit = std::strtoull(max_s.c_str(), nullptr, 10);
    const size_t left = limit > cur ? limit - cur : 0;
    avail = avail == 0 ? left : std::min(avail, left);
  }
  return avail;
}

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};

// Converts n elements between any two of F32/F16/BF16.
void ConvertElements(DType from, const void* src, DType to, void* dst, size_t n) {
  if (from == to) {
    std::memcpy(dst, src, n * DTypeSize(from));
    return;
  }
  constexpr size_t kChunk = 4096;
  float tmp[kChunk];
  for (size_t i = 0; i < n; i += kChunk) {
    const size_t c = std::min(kChunk, n - i);
    ConvertToF32(from, static_cast<const char*>(src) + i * DTypeSize(from), tmp, c);
    switch (to) {
      case DType::kF32:
        std::memcpy(static_cast<float*>(dst) + i, tmp, c * 4);
        break;
      case DType::kF16:
        for (size_t j = 0; j < c; ++j) static_cast<uint16_t*>(dst)[i + j] = F32ToF16(tmp[j]);
        break;
      case DType::kBF16:
        for (size_t j = 0; j < c; ++j) static_cast<uint16_t*>(dst)[i + j] = F32ToBf16(tmp[j]);
        break;
      case DType::kI32:
      case DType::kU32:
      case DType::kAffine:
        AX_CHECK_MSG(false, "weights convert only between F32, F16 and BF16");
    }
  }
}

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(const BackendOptions& opts)
      : pool_(opts.threads > 0 ? opts.threads : ThreadPool::HardwareThreads()),
        fast_(kernels::cpu::CpuHasAvx2Fma()),
        kv_dtype_(opts.precision == Precision::kF32 ? DType::kF32 : DType::kBF16),
        kv_layout_(EnvSwitch("AX_CPU_KV_HEAD_MAJOR", true) ? kernels::KvLayout::kHeadMajor
                                                           : kernels::KvLayout::kSlotMajor) {}

  BackendKind kind() const override { return BackendKind::kCpu; }

  std::string Describe() const override {
    return std::string("cpu (") + (fast_ ? kernels::cpu::KernelPaths() : std::string("scalar reference kernels")) +
           ", kv " + DTypeName(kv_dtype_) +
           (kv_layout_ == kernels::KvLayout::kHeadMajor ? " head-major" : " slot-major") + ", " +
           std::to_string(pool_.num_threads()) + " threads)";
  }

  // bf16 by default: decode attention reads every cached key and value once per token,
  // so half the bytes is up to twice the speed at long contexts; --precision f32 keeps
  // f32. Head-major, so one head's keys of a block are contiguous (kernels/params.h
  // KvLayout); AX_CPU_KV_HEAD_MAJOR=0 restores the slot-major layout (A/B only).
  DType kv_dtype() const override { return kv_dtype_; }
  Shape KvCacheShape(int64_t num_blocks, int block_size, int n_kv_heads, int head_dim) const override {
    if (kv_layout_ == kernels::KvLayout::kSlotMajor) return Shape{num_blocks, block_size, n_kv_heads, head_dim};
    return Shape{num_blocks, n_kv_heads, block_size, head_dim};
  }

  Result<TensorView> UploadWeight(const TensorView& host, DType dtype) override {
    return UploadConcatRows({host}, dtype);
  }

  Result<TensorView> UploadConcatRows(const std::vector<TensorView>& parts, DType dtype) override {
    const Shape shape = ConcatRowsShape(parts);
    if (dtype == DType::kAffine) return UploadAffineRows(parts, shape);
    AX_ASSIGN_OR_RETURN(TensorView out, Alloc(dtype, shape));
    char* dst = static_cast<char*>(out.data);
    for (const TensorView& p : parts) {
      ConvertElements(p.dtype, p.data, dtype, dst, static_cast<size_t>(p.numel()));
      dst += static_cast<size_t>(p.numel()) * DTypeSize(dtype);
    }
    return out;
  }

  // Codes, scales and biases of affine parts, each concatenated along rows.
  Result<TensorView> UploadAffineRows(const std::vector<TensorView>& parts, const Shape& shape) {
    AX_ASSIGN_OR_RETURN(AffineQuant q, CommonAffineQuant(parts));
    const int64_t rows = shape[0], cols = shape[1];
    const size_t side = AffineSideBytes(q, rows, cols);
    AX_ASSIGN_OR_RETURN(void* codes, AllocBytes(static_cast<size_t>(rows * AffineRowBytes(cols, q.bits)), "codes"));
    AX_ASSIGN_OR_RETURN(void* scales, AllocBytes(side, "scales"));
    AX_ASSIGN_OR_RETURN(void* biases, AllocBytes(side, "biases"));
    size_t at_codes = 0, at_side = 0;
    for (const TensorView& p : parts) {
      const size_t n_codes = p.nbytes(), n_side = AffineSideBytes(q, p.shape[0], cols);
      std::memcpy(static_cast<char*>(codes) + at_codes, p.data, n_codes);
      std::memcpy(static_cast<char*>(scales) + at_side, p.quant.scales, n_side);
      std::memcpy(static_cast<char*>(biases) + at_side, p.quant.biases, n_side);
      at_codes += n_codes;
      at_side += n_side;
    }
    TensorView out{codes, DType::kAffine, shape, Device::kCpu};
    out.quant = q;
    out.quant.scales = scales;
    out.quant.biases = biases;
    return out;
  }

  Result<TensorView> Alloc(DType dtype, const Shape& shape) override {
    AX_ASSIGN_OR_RETURN(void* p, AllocBytes(static_cast<size_t>(shape.numel()) * DTypeSize(dtype),
                                            std::string(DTypeName(dtype)) + " tensor " + shape.ToString()));
    return TensorView{p, dtype, shape, Device::kCpu};
  }

  // `what` names the buffer in the error.
  Result<void*> AllocBytes(size_t bytes, const std::string& what) {
    // 2 MiB alignment for large buffers so transparent huge pages can back them
    // (fewer TLB misses while streaming weights); 64 bytes otherwise.
    const size_t align = bytes >= (4u << 20) ? (2u << 20) : 64;
    const size_t rounded = (std::max<size_t>(bytes, 1) + align - 1) / align * align;
    // Everything this backend allocates must fit in the memory that was available when it
    // began. With overcommit, buffers larger than that are granted untouched, and a model or
    // KV cache too large for memory would end in the OOM killer rather than this error.
    if (budget_ == 0) budget_ = AvailableHostBytes();
    const size_t left = budget_ > allocated_bytes_ ? budget_ - allocated_bytes_ : 0;
    void* p = budget_ != 0 && rounded > left ? nullptr : std::aligned_alloc(align, rounded);
    if (p == nullptr) {
      return ResourceExhausted("cpu: " + what + " needs " + GiB(bytes) + " of memory, but only " + GiB(left) +
                               " is left of the " + GiB(budget_) + " available when loading began (" +
                               GiB(allocated_bytes_) +
                               " already allocated by this backend): the model, KV cache and workspace do not "
                               "fit; use a smaller model or dtype, or a smaller --ctx-size / --kv-cache-mb");
    }
    allocated_bytes_ += rounded;
    if (align > 64) madvise(p, rounded, MADV_HUGEPAGE);
    buffers_.emplace_back(p);
    return p;
  }

  Status ReadToHost(const TensorView& src, void* dst, size_t bytes) override {
    AX_CHECK(bytes <= src.nbytes());
    std::memcpy(dst, src.data, bytes);
    return Status::Ok();
  }

  Status BeginForward(const BatchMeta& meta) override {
    meta_ = meta;
    return Status::Ok();
  }

  void Embedding(const TensorView& table, float scale, TensorView out) override {
    kernels::EmbeddingParams p;
    p.scale = scale;
    p.table = table.data;
    p.table_dtype = table.dtype;
    p.table_q = table.quant;
    p.ids = meta_.tokens;
    p.out = out.as<float>();
    p.n = meta_.n_tokens;
    p.d = table.shape[1];
    p.vocab = table.shape[0];
    fast_ ? kernels::cpu::Embedding(p, pool_) : kernels::ref::Embedding(p);
  }

  void RmsNorm(const TensorView& x, const TensorView& w, float eps, TensorView y) override {
    kernels::RmsNormParams p;
    p.d = w.shape[0];
    p.m = x.numel() / p.d;
    p.x = x.as<float>();
    p.w = w.as<float>();
    p.y = y.as<float>();
    p.eps = eps;
    fast_ ? kernels::cpu::RmsNorm(p, pool_) : kernels::ref::RmsNorm(p);
  }

  void Matmul(const TensorView& x, const TensorView& w, TensorView y, bool accumulate,
              int64_t throughput_rows) override {
    kernels::MatmulParams p;
    p.w = w.data;
    p.w_dtype = w.dtype;
    p.wq = w.quant;
    p.n = w.shape[0];
    p.k = w.shape[1];
    p.accumulate = accumulate;
    const int64_t m = x.numel() / p.k;
    const int64_t split = std::clamp<int64_t>(throughput_rows, 0, m);
    // Two calls, one per row class: [0, split) throughput, [split, m) row-invariant.
    for (int part = 0; part < 2; ++part) {
      const int64_t r0 = part == 0 ? 0 : split, r1 = part == 0 ? split : m;
      if (r0 == r1) continue;
      p.x = x.as<float>() + r0 * p.k;
      p.y = y.as<float>() + r0 * p.n;
      p.m = r1 - r0;
      p.kernel = part == 0 ? kernels::MatmulKernel::kThroughput : kernels::MatmulKernel::kRowInvariant;
      fast_ ? kernels::cpu::MatmulWithKernel(p, pool_) : kernels::ref::Matmul(p);
    }
  }

  void Rope(TensorView x, int n_heads, int head_dim, const TensorView& inv_freq) override {
    kernels::RopeParams p;
    p.x = x.as<float>();
    p.positions = meta_.positions;
    p.inv_freq = inv_freq.as<float>();
    p.n_tokens = meta_.n_tokens;
    p.n_heads = n_heads;
    p.head_dim = head_dim;
    p.rot_dim = static_cast<int>(inv_freq.shape[0] * 2);
    fast_ ? kernels::cpu::Rope(p, pool_) : kernels::ref::Rope(p);
  }

  void GatedAct(const TensorView& gate_up, TensorView out, GateAct act) override {
    Gated(gate_up.as<float>(), nullptr, 0, out, act);
  }

  void Add(const TensorView& x, TensorView y) override {
    AX_CHECK(x.numel() == y.numel());
    kernels::AddParams p{x.as<float>(), y.as<float>(), y.numel()};
    fast_ ? kernels::cpu::Add(p, pool_) : kernels::ref::Add(p);
  }

  void ActMul(const TensorView& gate, const TensorView& up, int64_t up_stride, TensorView out,
              GateAct act) override {
    Gated(gate.as<float>(), up.as<float>(), up_stride, out, act);
  }

  void Scale(TensorView x, float s) override {
    kernels::ScaleParams p{x.as<float>(), x.numel(), s};
    fast_ ? kernels::cpu::Scale(p, pool_) : kernels::ref::Scale(p);
  }

  void Softcap(TensorView x, float cap) override {
    kernels::SoftcapParams p{x.as<float>(), x.numel(), cap};
    fast_ ? kernels::cpu::Softcap(p, pool_) : kernels::ref::Softcap(p);
  }

  void RowMass(const TensorView& x, const TensorView& vals, int64_t first_row, TensorView mass) override {
    AX_CHECK(x.shape.ndim == 2 && vals.shape.ndim == 2 && meta_.logit_inv_temperature != nullptr);
    kernels::RowMassParams p;
    p.x = x.as<float>();
    p.best = vals.as<float>();
    p.best_stride = vals.shape[1];
    p.inv_t = meta_.logit_inv_temperature + first_row;
    p.mass = mass.as<float>();
    p.rows = x.shape[0];
    p.n = x.shape[1];
    fast_ ? kernels::cpu::RowMass(p, pool_) : kernels::ref::RowMass(p);
  }

  void ApplyPenalties(TensorView logits, int64_t first_row) override {
    const LogitPenalties& pen = meta_.penalties;
    AX_CHECK(logits.shape.ndim == 2 && pen.any());
    const int64_t vocab = logits.shape[1];
    for (int64_t r = 0; r < logits.shape[0]; ++r) {
      float* row = logits.as<float>() + r * vocab;
      const int64_t lr = first_row + r;
      for (int32_t e = pen.begin[lr]; e < pen.begin[lr + 1]; ++e) {
        const LogitPenalty& p = pen.entries[e];
        AX_CHECK(p.id >= 0 && p.id < vocab);
        row[p.id] = PenalisedLogit(row[p.id], pen.repetition[lr], pen.presence[lr], p);
      }
    }
  }

  void KvWrite(const TensorView& k, const TensorView& v, const KvLayerView& cache, int n_kv_heads,
               int head_dim) override {
    kernels::KvWriteParams p;
    p.k = k.as<float>();
    p.v = v.as<float>();
    p.k_cache = cache.k.data;
    p.v_cache = cache.v.data;
    p.block_size = cache.block_size;
    p.layout = kv_layout_;
    p.cache_dtype = cache.k.dtype;
    p.slot_mapping = meta_.slot_mapping + static_cast<int64_t>(cache.group) * meta_.n_tokens;
    p.n_tokens = meta_.n_tokens;
    p.n_kv_heads = n_kv_heads;
    p.head_dim = head_dim;
    fast_ ? kernels::cpu::KvWrite(p, pool_) : kernels::ref::KvWrite(p);
  }

  void Attention(const TensorView& q, const KvLayerView& cache, const AttentionShape& shape,
                 TensorView out) override {
    kernels::AttentionParams p;
    p.q = q.as<float>();
    p.k_cache = cache.k.data;
    p.v_cache = cache.v.data;
    p.layout = kv_layout_;
    p.cache_dtype = cache.k.dtype;
    p.out = out.as<float>();
    p.positions = meta_.positions;
    p.seq_q_begin = meta_.seq_q_begin;
    p.seq_q_len = meta_.seq_q_len;
    p.block_tables =
        meta_.block_tables + static_cast<int64_t>(cache.group) * meta_.n_seqs * meta_.max_blocks_per_seq;
    p.n_seqs = meta_.n_seqs;
    p.max_blocks_per_seq = meta_.max_blocks_per_seq;
    p.n_heads = shape.n_heads;
    p.n_kv_heads = shape.n_kv_heads;
    p.head_dim = shape.head_dim;
    p.block_size = cache.block_size;
    p.scale = shape.scale;
    p.window = shape.window;
    p.softcap = shape.softcap;
    fast_ ? kernels::cpu::Attention(p, pool_) : kernels::ref::Attention(p);
  }

  Status CheckGatedDelta(const GatedDeltaShape& s) const override {
    if (s.n_k_heads <= 0 || s.n_v_heads <= 0 || s.n_v_heads % s.n_k_heads != 0 || s.dk <= 0 || s.dv <= 0 ||
        s.kernel < 1 || s.kernel > 64)
      return InvalidArgument("GatedDelta layer: " + std::to_string(s.n_k_heads) + " k heads, " +
                             std::to_string(s.n_v_heads) + " v heads (a multiple), head dims " + std::to_string(s.dk) +
                             "/" + std::to_string(s.dv) + ", conv kernel " + std::to_string(s.kernel) + " (1 to 64)");
    return Status::Ok();
  }

  void GatedDelta(const TensorView& proj, const GatedDeltaWeights& w, const GatedDeltaShape& s,
                  const KvLayerView& state, TensorView scratch, TensorView out) override {
    AX_CHECK(meta_.state_slots != nullptr && proj.shape[1] == s.proj_cols());
    kernels::GatedDeltaParams p;
    p.proj = proj.as<float>();
    p.proj_stride = s.proj_cols();
    p.z_off = s.z_off();
    p.b_off = s.b_off();
    p.a_off = s.a_off();
    p.conv_w = w.conv_w.as<float>();
    p.a_log = w.a_log.as<float>();
    p.dt_bias = w.dt_bias.as<float>();
    p.norm_w = w.norm_w.as<float>();
    p.norm_eps = s.norm_eps;
    p.conv_state = state.conv_state.as<float>();
    p.state = state.delta_state.as<float>();
    p.out = out.as<float>();
    p.scratch = scratch.as<float>();
    p.positions = meta_.positions;
    p.seq_q_begin = meta_.seq_q_begin;
    p.seq_q_len = meta_.seq_q_len;
    p.slots = meta_.state_slots;
    p.n_seqs = meta_.n_seqs;
    p.n_k_heads = s.n_k_heads;
    p.n_v_heads = s.n_v_heads;
    p.dk = s.dk;
    p.dv = s.dv;
    p.kernel = s.kernel;
    if (state.conv_ckpt.data != nullptr) {
      p.keep_rows = meta_.state_keep;
      p.conv_ckpt = state.conv_ckpt.as<float>();
      p.state_ckpt = state.delta_ckpt.as<float>();
      p.n_checkpoints = static_cast<int>(state.conv_ckpt.shape[1]);
    }
    fast_ ? kernels::cpu::GatedDelta(p, pool_) : kernels::ref::GatedDelta(p);
  }

  void RestoreState(const KvLayerView& state, int slot, int checkpoint) override {
    const auto copy = [&](const TensorView& ckpt, const TensorView& live) {
      const size_t per_slot = static_cast<size_t>(live.numel() / live.shape[0]);
      const size_t at = (static_cast<size_t>(slot) * static_cast<size_t>(ckpt.shape[1]) + checkpoint) * per_slot;
      std::memcpy(live.as<float>() + static_cast<size_t>(slot) * per_slot, ckpt.as<float>() + at,
                  per_slot * sizeof(float));
    };
    AX_CHECK(checkpoint >= 0 && checkpoint < state.conv_ckpt.shape[1]);
    copy(state.conv_ckpt, state.conv_state);
    copy(state.delta_ckpt, state.delta_state);
  }

  void SigmoidMul(const TensorView& gate, int64_t gate_stride, TensorView x, int64_t groups) override {
    kernels::SigmoidMulParams p;
    p.gate = gate.as<float>();
    p.gate_stride = gate_stride;
    p.x = x.as<float>();
    p.d = x.shape[x.shape.ndim - 1];
    p.m = x.numel() / p.d;
    p.g = groups;
    AX_CHECK(groups > 0 && p.d % groups == 0);
    fast_ ? kernels::cpu::SigmoidMul(p, pool_) : kernels::ref::SigmoidMul(p);
  }

  void RouteTopK(const TensorView& logits, const TensorView& per_expert_scale, const TensorView& choice_bias,
                 const MoeShape& shape, TensorView ids, TensorView weights) override {
    kernels::RouteParams p;
    p.logits = logits.as<float>();
    p.n = logits.shape[0];
    p.num_experts = shape.num_experts;
    p.k = shape.top_k;
    p.softmax = shape.softmax;
    p.normalize = shape.normalize;
    p.per_expert_scale = per_expert_scale.data != nullptr ? per_expert_scale.as<float>() : nullptr;
    p.scale = shape.scale;
    p.ids = ids.as<int32_t>();
    p.weights = weights.as<float>();
    if (shape.choice_bias) {
      AX_CHECK(choice_bias.data != nullptr && !shape.softmax);
      p.choice_bias = choice_bias.as<float>();
      p.n_group = shape.n_group;
      p.topk_group = shape.topk_group;
      p.masked_zero = shape.masked_zero;
    }
    kernels::ref::Route(p);  // E values per row: the reference is the kernel
  }

  void MoeExperts(const TensorView& x, const TensorView& ids, const TensorView& weights, const TensorView& gate_up,
                  const TensorView& down, const MoeShape& shape, TensorView /*scratch*/, TensorView out,
                  int64_t throughput_rows) override {
    kernels::MoeParams p;
    p.x = x.as<float>();
    p.hidden = x.shape[1];
    p.n = x.shape[0];
    p.inter = shape.inter;
    p.ids = ids.as<int32_t>();
    p.weights = weights.as<float>();
    p.k = shape.top_k;
    p.num_experts = shape.num_experts;
    p.gate_up = gate_up.data;
    p.down = down.data;
    p.w_dtype = gate_up.dtype;
    p.gate_up_q = gate_up.quant;
    p.down_q = down.quant;
    p.act = shape.act;
    p.prompt_rows = std::clamp<int64_t>(throughput_rows, 0, p.n);
    p.out = out.as<float>();
    fast_ ? kernels::cpu::Moe(p, pool_) : kernels::ref::Moe(p);
  }

  Status CheckMla(const MlaShape& s) const override {
    if (s.n_heads == 0) return Status::Ok();  // AddBias and the noaux_tc router only
    if (s.n_heads < 0 || s.latent_dim <= 0 || s.rope_dim < 0 || s.nope_dim < 0 || s.v_dim <= 0)
      return InvalidArgument("MLA layer: " + std::to_string(s.n_heads) + " heads, latent " +
                             std::to_string(s.latent_dim) + ", rope " + std::to_string(s.rope_dim) + ", nope " +
                             std::to_string(s.nope_dim) + ", v " + std::to_string(s.v_dim));
    return Status::Ok();
  }

  void AddBias(TensorView x, const TensorView& bias) override {
    const int64_t d = bias.shape[0], m = x.numel() / d;
    AX_CHECK(m * d == x.numel());
    for (int64_t r = 0; r < m; ++r) {
      kernels::AddParams p{bias.as<float>(), x.as<float>() + r * d, d};
      fast_ ? kernels::cpu::Add(p, pool_) : kernels::ref::Add(p);
    }
  }

  void LatentWrite(const TensorView& latent, const TensorView& rope, const KvLayerView& cache,
                   const MlaShape& s) override {
    kernels::LatentWriteParams p;
    p.latent = latent.as<float>();
    p.rope = rope.as<float>();
    p.cache = cache.k.data;
    p.cache_dtype = cache.k.dtype;
    p.slot_mapping = meta_.slot_mapping + static_cast<int64_t>(cache.group) * meta_.n_tokens;
    p.n_tokens = meta_.n_tokens;
    p.latent_dim = s.latent_dim;
    p.rope_dim = s.rope_dim;
    kernels::ref::LatentWrite(p);  // one copy per row: the reference is the kernel
  }

  void MlaAttention(const TensorView& q, const TensorView& kv_b, const KvLayerView& cache, const MlaShape& s,
                    TensorView out) override {
    AX_CHECK(kv_b.dtype == DType::kF32);
    kernels::MlaParams p;
    p.q = q.as<float>();
    p.kv_b = kv_b.as<float>();
    p.cache = cache.k.data;
    p.cache_dtype = cache.k.dtype;
    p.out = out.as<float>();
    p.positions = meta_.positions;
    p.seq_q_begin = meta_.seq_q_begin;
    p.seq_q_len = meta_.seq_q_len;
    p.block_tables = meta_.block_tables + static_cast<int64_t>(cache.group) * meta_.n_seqs * meta_.max_blocks_per_seq;
    p.n_seqs = meta_.n_seqs;
    p.max_blocks_per_seq = meta_.max_blocks_per_seq;
    p.block_size = cache.block_size;
    p.n_heads = s.n_heads;
    p.latent_dim = s.latent_dim;
    p.rope_dim = s.rope_dim;
    p.nope_dim = s.nope_dim;
    p.v_dim = s.v_dim;
    p.scale = s.scale;
    fast_ ? kernels::cpu::Mla(p, pool_) : kernels::ref::Mla(p);
  }

  void GatherLogitRows(const TensorView& x, TensorView out, int64_t first) override {
    const int64_t d = x.shape[x.shape.ndim - 1];
    AX_CHECK(first >= 0 && first + out.shape[0] <= meta_.n_logit_rows);
    for (int64_t i = 0; i < out.shape[0]; ++i) {
      std::memcpy(out.as<float>() + i * d, x.as<float>() + meta_.logit_rows[first + i] * d, d * sizeof(float));
    }
  }

 private:
  // out [m, f] = act(gate) * up: gate_up [m, 2f] fused when up is null, else gate [m, f]
  // and up rows up_stride apart (kernels::GatedActParams).
  void Gated(const float* gate, const float* up, int64_t up_stride, TensorView out, GateAct act) {
    kernels::GatedActParams p;
    p.gate_up = gate;
    p.out = out.as<float>();
    p.f = out.shape[out.shape.ndim - 1];
    p.m = out.numel() / p.f;
    p.act = act;
    if (up != nullptr) {
      p.up = up;
      p.gate_stride = p.f;
      p.up_stride = up_stride;
    }
    fast_ ? kernels::cpu::GatedAct(p, pool_) : kernels::ref::GatedAct(p);
  }

  ThreadPool pool_;
  bool fast_;
  DType kv_dtype_;
  kernels::KvLayout kv_layout_;
  BatchMeta meta_;
  std::vector<std::unique_ptr<void, FreeDeleter>> buffers_;
  size_t allocated_bytes_ = 0;  // over buffers_
  size_t budget_ = 0;           // host memory available at the first allocation; 0: unknown
};

}  // namespace

std::unique_ptr<Backend> CreateCpuBackend(const BackendOptions& opts) {
  return std::make_unique<CpuBackend>(opts);
}

}  // namespace ax
