// Random-weight checkpoints in published shapes (see synth.h for the contract).
//
// Work split: every tensor is cut into pieces of opts.piece_elems elements; pieces of all
// shards go on one list that num_threads threads drain through an atomic cursor.
// Element i of tensor `name` is a pure function of (seed, name, i), so the bytes do
// not depend on the piece size or the thread count.
#include "model/synth.h"

#include "model/arch/arch.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <thread>

#include "base/hash.h"
#include "base/rng.h"
#include "base/timer.h"
#include "model/json_util.h"

namespace ax {
namespace {

namespace fs = std::filesystem;

// A Qwen3-MoE shape's sparse blocks (experts 0: none).
struct MoeRow {
  int64_t experts = 0, top_k = 0, inter = 0;
  bool norm_topk = false;
  int64_t sparse_step = 1;
  std::vector<int64_t> mlp_only;
};

// A hybrid Qwen shape's GatedDelta layers (linear_num_key_heads 0: not a hybrid) and
// its MoE blocks' shared expert.
struct HybridRow {
  int64_t k_heads = 0, v_heads = 0, dk = 0, dv = 0, conv = 4, full_interval = 4;
  int64_t shared_inter = 0;
  double partial = 0.25;
};

// A Gemma 4 shape's extras (global_head_dim 0: not Gemma 4). Full layers: every
// full_every-th layer and the last; global_kv 0: they keep num_key_value_heads.
struct Gemma4Row {
  int64_t global_head_dim = 0, global_kv = 0, full_every = 6;
  bool k_eq_v = false;
  int64_t kv_shared = 0, per_layer = 0;  // num_kv_shared_layers, hidden_size_per_layer_input
  bool double_wide = false;
};

// A GLM shape's extras (glm4_moe, glm4_moe_lite): the noaux_tc router and shared
// experts, and the attention of its family (GQA with biases and partial rotary, or MLA).
struct GlmRow {
  int64_t n_shared = 1, n_group = 1, topk_group = 1;
  double scaling = 1.0;
  int64_t q_lora = 0, kv_lora = 0, nope = 0, rope = 0, v = 0;  // glm4_moe_lite
  bool interleave = true;
  double partial = 0.5;  // glm4_moe
  bool qk_norm = false, bias = false;
};

struct ShapeRow {
  const char* name;
  ModelFamily family;
  int64_t hidden, inter, layers, heads, kv, head_dim, vocab, max_pos;
  double eps, theta;
  bool tied;
  RopeScaling rope;
  int32_t bos;
  std::vector<int32_t> eos;       // config.json
  std::vector<int32_t> gen_eos;   // generation_config.json
  int64_t window = 0;             // Gemma: sliding window of 5 of every 6 layers
  double attn_softcap = 0, final_softcap = 0;
  MoeRow moe = {};  // Gemma 4: the MoE block beside every MLP
  HybridRow hybrid = {};
  Gemma4Row gemma4 = {};
  GlmRow glm = {};
};

RopeScaling LinearRope(double factor) {
  RopeScaling r;
  r.type = RopeScalingType::kLinear;
  r.factor = factor;
  return r;
}

// Gemma 4's full layers: proportional rope, a quarter of the pairs turning.
RopeScaling ProportionalRope() {
  RopeScaling r;
  r.type = RopeScalingType::kProportional;
  r.partial_rotary_factor = 0.25;
  return r;
}

RopeScaling Llama3Rope(double factor, int64_t original) {
  RopeScaling r;
  r.type = RopeScalingType::kLlama3;
  r.factor = factor;
  r.low_freq_factor = 1.0;
  r.high_freq_factor = 4.0;
  r.original_max_position_embeddings = original;
  return r;
}

// Published configs: meta-llama/Llama-3.2-1B, meta-llama/Llama-3.1-8B, Qwen/Qwen3-*.
const std::vector<ShapeRow>& Shapes() {
  // One published config per row.
  // clang-format off
  static const std::vector<ShapeRow> rows = {
      {"llama-1b", ModelFamily::kLlama, 2048, 8192, 16, 32, 8, 64, 128256, 131072, 1e-5, 500000.0, true,
       Llama3Rope(32.0, 8192), 128000, {128001}, {128001}},
      {"llama-8b", ModelFamily::kLlama, 4096, 14336, 32, 32, 8, 128, 128256, 131072, 1e-5, 500000.0, false,
       Llama3Rope(8.0, 8192), 128000, {128001}, {128001}},
      {"qwen3-0.6b", ModelFamily::kQwen3, 1024, 3072, 28, 16, 8, 128, 151936, 40960, 1e-6, 1000000.0, true,
       RopeScaling{}, 151643, {151645}, {151645, 151643}},
      {"qwen3-1.7b", ModelFamily::kQwen3, 2048, 6144, 28, 16, 8, 128, 151936, 40960, 1e-6, 1000000.0, true,
       RopeScaling{}, 151643, {151645}, {151645, 151643}},
      {"qwen3-4b", ModelFamily::kQwen3, 2560, 9728, 36, 32, 8, 128, 151936, 40960, 1e-6, 1000000.0, true,
       RopeScaling{}, 151643, {151645}, {151645, 151643}},
      {"qwen3-8b", ModelFamily::kQwen3, 4096, 12288, 36, 32, 8, 128, 151936, 40960, 1e-6, 1000000.0, false,
       RopeScaling{}, 151643, {151645}, {151645, 151643}},
      // google/gemma-3-1b-pt's text config (sliding window 512 on 5 of every 6 layers).
      {"gemma-3-1b", ModelFamily::kGemma3, 1152, 6912, 26, 4, 1, 256, 262144, 32768, 1e-6, 1000000.0, true,
       RopeScaling{}, 2, {1}, {1, 106}, 512},
      // google/gemma-3-4b-pt's text config (Gemma3ForConditionalGeneration's text_config:
      // linear rope scaling 8 on the full layers, window 1024, vocab 262208).
      {"gemma-3-4b", ModelFamily::kGemma3, 2560, 10240, 34, 8, 4, 256, 262208, 131072, 1e-6, 1000000.0, true,
       LinearRope(8.0), 2, {1}, {1, 106}, 1024},
      // Gemma 4 text models (Gemma4ForCausalLM / gemma4_text; the published checkpoints are
      // Gemma4ForConditionalGeneration whose text_config these are). Every one: vocab
      // 262144, head_dim 256 sliding / global_head_dim 512 full, rope 1e4 sliding and
      // 1e6 proportional 0.25 full, final softcap 30, tied embeddings. Numbers: configs
      // quoted from the published config.json files in public test suites (Swift, Rust,
      // Go and Python ports: E2B and 31B text_config in full, E4B from
      // google/gemma-4-E4B-it-qat-w4a16-ct, 26B-A4B from google/diffusiongemma-26B-A4B-it
      // and others), NVIDIA's Megatron-Bridge E4B recipe, gemma.cpp's E2B/E4B configs and
      // llama.cpp's layer counts (35 E2B, 42 E4B, 30 26B-A4B, 60 31B).
      // Unconfirmed: generation_config's eos list {1, 106} (Gemma 3's).
      // E2B: 35 layers, 4 sliding : 1 full, 1 kv head, the last 20 layers read earlier
      // layers' KV with MLPs twice as wide (6144 / 12288), per-layer inputs of 256.
      {"gemma-4-e2b", ModelFamily::kGemma4, 1536, 6144, 35, 8, 1, 256, 262144, 131072, 1e-6, 1000000.0, true,
       ProportionalRope(), 2, {1}, {1, 106}, 512, 0, 30.0, MoeRow{}, HybridRow{},
       Gemma4Row{512, 0, 5, false, 20, 256, true}},
      // E4B: 42 layers, 5 : 1, 2 kv heads, 18 shared layers, per-layer inputs of 256.
      // Unconfirmed: max_position_embeddings 131072 (E2B's; not in the quoted config).
      {"gemma-4-e4b", ModelFamily::kGemma4, 2560, 10240, 42, 8, 2, 256, 262144, 131072, 1e-6, 1000000.0, true,
       ProportionalRope(), 2, {1}, {1, 106}, 512, 0, 30.0, MoeRow{}, HybridRow{},
       Gemma4Row{512, 0, 6, false, 18, 256, false}},
      // 26B-A4B: 30 layers, 5 : 1, window 1024, 8 kv heads sliding / 2 on the K=V full
      // layers; every layer a dense MLP of 2112 beside 128 experts of 704 (top 8).
      {"gemma-4-26b-a4b", ModelFamily::kGemma4, 2816, 2112, 30, 16, 8, 256, 262144, 262144, 1e-6, 1000000.0, true,
       ProportionalRope(), 2, {1}, {1, 106}, 1024, 0, 30.0, MoeRow{128, 8, 704, false, 1, {}}, HybridRow{},
       Gemma4Row{512, 2, 6, true, 0, 0, false}},
      // 31B: 60 layers, 5 : 1, window 1024, 16 kv heads sliding / 4 on the K=V full layers.
      {"gemma-4-31b", ModelFamily::kGemma4, 5376, 21504, 60, 32, 16, 256, 262144, 262144, 1e-6, 1000000.0, true,
       ProportionalRope(), 2, {1}, {1, 106}, 1024, 0, 30.0, MoeRow{}, HybridRow{},
       Gemma4Row{512, 4, 6, true, 0, 0, false}},
      // Qwen/Qwen3-30B-A3B: 48 layers, every one sparse (128 experts of 768, top 8).
      {"qwen3-30b-a3b", ModelFamily::kQwen3Moe, 2048, 6144, 48, 32, 4, 128, 151936, 40960, 1e-6, 1000000.0, false,
       RopeScaling{}, 151643, {151645}, {151645, 151643}, 0, 0, 0, MoeRow{128, 8, 768, true, 1, {}}},
      // Qwen/Qwen3.5-9B (transformers' Qwen3_5TextConfig defaults, its "9B style"): 32
      // layers, a full one every 4th; GatedDelta 16 k / 32 v heads of 128.
      {"qwen3.5-9b", ModelFamily::kQwen35, 4096, 12288, 32, 16, 4, 256, 248320, 262144, 1e-6, 10000000.0, false,
       RopeScaling{}, -1, {248044}, {248044}, 0, 0, 0, MoeRow{}, HybridRow{16, 32, 128, 128, 4, 4, 0, 0.25}},
      // Qwen/Qwen3.6-35B-A3B (= Qwen3.5-35B-A3B's text model, transformers'
      // Qwen3_5MoeTextConfig defaults): 40 layers, 256 experts of 512 (top 8) + a shared
      // expert of 512 on every layer.
      {"qwen3.6-35b-a3b", ModelFamily::kQwen35Moe, 2048, 512, 40, 16, 2, 256, 248320, 262144, 1e-6, 10000000.0,
       false, RopeScaling{}, -1, {248044}, {248044}, 0, 0, 0, MoeRow{256, 8, 512, true, 1, {}},
       HybridRow{16, 32, 128, 128, 4, 4, 512, 0.25}},
      // Qwen/Qwen3-Next-80B-A3B-Instruct: 48 layers, 512 experts of 512 (top 10) + a
      // shared expert of 512.
      {"qwen3-next-80b-a3b", ModelFamily::kQwen3Next, 2048, 5120, 48, 16, 2, 256, 151936, 262144, 1e-6, 10000000.0,
       false, RopeScaling{}, 151643, {151645}, {151645, 151643}, 0, 0, 0, MoeRow{512, 10, 512, true, 1, {}},
       HybridRow{16, 32, 128, 128, 4, 4, 512, 0.25}},
      // zai-org/GLM-4.7-Flash (glm4_moe_lite): 47 layers, the first dense; MLA with 20 heads,
      // q LoRA 768, kv latent 512, q/k head dims 192 + 64 (interleaved rope), v 256; 64
      // experts of 1536 (top 4, one shared, routed_scaling_factor 1.8). rope_theta 1e6, the
      // eos ids and bos none are as we read the published config; treat them as unverified.
      {"glm-4.7-flash", ModelFamily::kGlm4MoeLite, 2048, 10240, 47, 20, 20, 64, 154880, 202752, 1e-5, 1000000.0,
       false, RopeScaling{}, -1, {154820, 154827, 154829}, {154820, 154827, 154829}, 0, 0, 0,
       MoeRow{64, 4, 1536, true, 1, {0}}, HybridRow{}, Gemma4Row{}, GlmRow{1, 1, 1, 1.8, 768, 512, 192, 64, 256, true, 1.0}},
      // zai-org/GLM-4.5-Air (glm4_moe): 46 layers, the first dense; GQA 96/8 heads of 128
      // with q/k/v biases, half the head rotary; 128 experts of 1408 (top 8, one shared,
      // routed_scaling_factor 1). Its extra multi-token-prediction layer (layer 46,
      // num_nextn_predict_layers) is not written. rope_theta 1e6, the eos ids and the
      // absent q/k norm are as we read the published config; treat them as unverified.
      {"glm-4.5-air", ModelFamily::kGlm4Moe, 4096, 10944, 46, 96, 8, 128, 151552, 131072, 1e-5, 1000000.0, false,
       RopeScaling{}, -1, {151329, 151336, 151338}, {151329, 151336, 151338}, 0, 0, 0,
       MoeRow{128, 8, 1408, true, 1, {0}}, HybridRow{}, Gemma4Row{}, GlmRow{1, 1, 1, 1.0, 0, 0, 0, 0, 0, false, 0.5, false, true}},
      // Test shapes (same as tests/fixtures/models/tiny-llama; tiny-qwen3 with 2 layers).
      {"tiny-llama", ModelFamily::kLlama, 64, 160, 2, 4, 2, 16, 256, 256, 1e-5, 500000.0, false,
       Llama3Rope(8.0, 16), 1, {2}, {2}},
      {"tiny-qwen3", ModelFamily::kQwen3, 64, 128, 2, 4, 2, 32, 256, 512, 1e-6, 1000000.0, true,
       RopeScaling{}, 1, {2}, {2}},
      // Gemma 3 with a window of 8 and a final softcap: windowed layers drop keys early.
      {"tiny-gemma3", ModelFamily::kGemma3, 64, 128, 6, 4, 2, 32, 256, 512, 1e-6, 1000000.0, true,
       RopeScaling{}, 2, {1}, {1}, 8, 0.0, 30.0},
      // Qwen3-MoE with the sizes of tests/fixtures/models/tiny-qwen3-moe: 8 experts of 32, top 2,
      // renormalised; layer 1 dense (mlp_only_layers).
      {"tiny-qwen3-moe", ModelFamily::kQwen3Moe, 64, 128, 4, 4, 2, 16, 256, 512, 1e-6, 1000000.0, false,
       RopeScaling{}, 1, {2}, {2}, 0, 0, 0, MoeRow{8, 2, 32, true, 1, {1}}},
      // The sizes of tests/fixtures/models/tiny-qwen3-next (8 layers: two full).
      {"tiny-qwen3-next", ModelFamily::kQwen3Next, 64, 128, 8, 4, 2, 16, 256, 512, 1e-6, 10000.0, false,
       RopeScaling{}, 2, {1}, {1}, 0, 0, 0, MoeRow{8, 2, 32, true, 1, {}}, HybridRow{2, 4, 16, 16, 4, 4, 48, 0.25}},
      // The sizes of tests/fixtures/models/tiny-glm4-moe-lite, with 2 groups of 4 experts
      // (top 1 group) so the group rule chooses.
      {"tiny-glm4-moe-lite", ModelFamily::kGlm4MoeLite, 64, 128, 4, 4, 4, 8, 256, 512, 1e-6, 10000.0, false,
       RopeScaling{}, 2, {1}, {1}, 0, 0, 0, MoeRow{8, 2, 32, true, 1, {0}}, HybridRow{}, Gemma4Row{},
       GlmRow{1, 2, 1, 1.8, 24, 32, 16, 8, 24, true, 1.0}},
      // The sizes of tests/fixtures/models/tiny-glm4-moe.
      {"tiny-glm4-moe", ModelFamily::kGlm4Moe, 64, 128, 4, 4, 2, 16, 256, 512, 1e-6, 10000.0, false,
       RopeScaling{}, 2, {1}, {1}, 0, 0, 0, MoeRow{8, 2, 32, true, 1, {0}}, HybridRow{}, Gemma4Row{},
       GlmRow{1, 2, 1, 2.5, 0, 0, 0, 0, 0, false, 0.5, true, true}},
  };
  // clang-format on
  return rows;
}

const ShapeRow* FindShape(const std::string& name) {
  for (const ShapeRow& r : Shapes())
    if (name == r.name) return &r;
  return nullptr;
}

// How a tensor's values are drawn: uniform in [-a, a] around `center`.
struct Init {
  float center = 0;
  float half_width = 0;
};

Init InitFor(const TensorSpec& t, int64_t hidden, bool hybrid) {
  const auto uniform_std = [](double std) { return static_cast<float>(std * std::sqrt(3.0)); };
  const auto ends_with = [&](const char* s) {
    const size_t n = std::strlen(s);
    return t.name.size() >= n && t.name.compare(t.name.size() - n, n, s) == 0;
  };
  if (hybrid) {  // zero-centred (1 + w) norms; GatedDelta's decay and conv as transformers initialises them
    if (ends_with("A_log")) return {1.4f, 1.3f};  // A = exp(A_log) in about [1, 15]
    if (ends_with("dt_bias")) return {1.0f, uniform_std(0.1)};
    if (ends_with("linear_attn.norm.weight")) return {1.0f, uniform_std(0.1)};  // plain w
    if (ends_with("conv1d.weight")) return {0.0f, uniform_std(1.0 / std::sqrt(static_cast<double>(t.shape[2])))};
    if (t.shape.ndim == 1) return {0.0f, uniform_std(0.1)};
  }
  if (ends_with(".bias")) return {0.0f, uniform_std(0.02)};                   // projection biases
  if (ends_with("e_score_correction_bias")) return {0.0f, uniform_std(0.1)};  // a router's choice bias
  if (t.shape.ndim == 1) return {1.0f, uniform_std(0.1)};                     // RMSNorm weights
  const std::string& n = t.name;
  if (n == "model.embed_tokens.weight" || n == "lm_head.weight")
    return {0.0f, uniform_std(2.0 / std::sqrt(static_cast<double>(hidden)))};
  // [out, in], or [experts, out, in]
  return {0.0f, uniform_std(1.0 / std::sqrt(static_cast<double>(t.shape[t.shape.ndim - 1])))};
}

// Element values [begin, end) of a tensor keyed by `key`, as f32. Elements 2k and
// 2k+1 take the low and high 32 bits of Mix64(key + k·φ): one mix per pair.
void Generate(uint64_t key, Init init, int64_t begin, int64_t end, float* out) {
  const auto value = [&](uint32_t bits) {
    const float u = (static_cast<float>(bits) + 0.5f) * 0x1.0p-32f;  // (0, 1)
    return init.center + init.half_width * (2.0f * u - 1.0f);
  };
  const auto pair = [&](int64_t i) { return Mix64(key + static_cast<uint64_t>(i >> 1) * 0x9e3779b97f4a7c15ULL); };
  int64_t i = begin;
  if (i < end && (i & 1)) {
    out[0] = value(static_cast<uint32_t>(pair(i) >> 32));
    ++i;
  }
  for (; i + 1 < end; i += 2) {
    const uint64_t bits = pair(i);
    out[i - begin] = value(static_cast<uint32_t>(bits));
    out[i + 1 - begin] = value(static_cast<uint32_t>(bits >> 32));
  }
  if (i < end) out[i - begin] = value(static_cast<uint32_t>(pair(i)));
}

void Encode(DType dt, const float* src, int64_t n, uint8_t* dst) {
  switch (dt) {
    case DType::kF32:
      std::memcpy(dst, src, static_cast<size_t>(n) * 4);
      return;
    case DType::kF16:
    case DType::kBF16: {
      auto* d = reinterpret_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) d[i] = dt == DType::kF16 ? F32ToF16(src[i]) : F32ToBf16(src[i]);
      return;
    }
    case DType::kI32:
    case DType::kU32:
    case DType::kAffine: return;  // rejected before generation
  }
}

struct Piece {
  size_t shard;  // index into the fds / paths
  const TensorSpec* spec;
  uint64_t key;
  Init init;
  int64_t begin, end;  // elements
  uint64_t offset;     // file offset of element `begin`
};

Status PWriteAll(int fd, const void* p, size_t n, uint64_t off, const std::string& path) {
  const auto* c = static_cast<const char*>(p);
  while (n > 0) {
    const ssize_t w = ::pwrite(fd, c, n, static_cast<off_t>(off));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return InvalidArgument(path + ": write failed: " + std::strerror(errno));
    c += w;
    n -= static_cast<size_t>(w);
    off += static_cast<uint64_t>(w);
  }
  return Status::Ok();
}

// Runs the pieces on `threads` threads; the first error wins and stops the rest.
Status RunPieces(const std::vector<Piece>& pieces, const std::vector<int>& fds,
                 const std::vector<std::string>& paths, int64_t piece_elems, int threads) {
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  Status first_error;
  const auto worker = [&] {
    std::vector<float> f32(static_cast<size_t>(piece_elems));
    std::vector<uint8_t> bytes(static_cast<size_t>(piece_elems) * 4);
    for (size_t i = next++; i < pieces.size() && !failed; i = next++) {
      const Piece& p = pieces[i];
      const int64_t n = p.end - p.begin;
      Generate(p.key, p.init, p.begin, p.end, f32.data());
      Encode(p.spec->dtype, f32.data(), n, bytes.data());
      Status s = PWriteAll(fds[p.shard], bytes.data(), static_cast<size_t>(n) * DTypeSize(p.spec->dtype),
                           p.offset, paths[p.shard]);
      if (!s.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        if (!failed.exchange(true)) first_error = s;
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& t : pool) t.join();
  return first_error;
}

// Splits specs (module order) into shards of at most max_bytes data bytes each.
std::vector<std::vector<size_t>> SplitShards(const std::vector<TensorSpec>& specs, uint64_t max_bytes) {
  std::vector<std::vector<size_t>> shards(1);
  uint64_t used = 0;
  for (size_t i = 0; i < specs.size(); ++i) {
    const uint64_t n = specs[i].nbytes();
    if (!shards.back().empty() && used + n > max_bytes) {
      shards.emplace_back();
      used = 0;
    }
    shards.back().push_back(i);
    used += n;
  }
  return shards;
}

Status CopyTokenizer(const std::string& from, const fs::path& to) {
  std::error_code ec;
  if (!fs::is_directory(from, ec)) return NotFound(from + ": no such tokenizer directory");
  int copied = 0;
  for (const char* f : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"}) {
    const fs::path src = fs::path(from) / f;
    if (!fs::is_regular_file(src, ec)) continue;
    if (!fs::copy_file(src, to / f, fs::copy_options::overwrite_existing, ec))
      return InvalidArgument(src.string() + ": cannot copy to " + to.string() + ": " + ec.message());
    ++copied;
  }
  if (copied == 0) return NotFound(from + ": no tokenizer.json, tokenizer_config.json or special_tokens_map.json");
  return Status::Ok();
}

// Writes the shards' data (and their headers) with `threads` threads.
Status WriteShards(const fs::path& dir, const std::vector<TensorSpec>& specs,
                   const std::vector<std::vector<size_t>>& shards, uint64_t seed, int64_t hidden, int64_t piece_elems,
                   int threads, bool hybrid) {
  std::vector<int> fds;
  std::vector<std::string> tmp_paths;
  std::vector<Piece> pieces;
  Status s;
  for (size_t si = 0; si < shards.size() && s.ok(); ++si) {
    std::vector<TensorSpec> shard_specs;
    for (size_t i : shards[si]) shard_specs.push_back(specs[i]);
    auto layout = PlanSafetensors(shard_specs, {{"format", "pt"}});
    if (!layout.ok()) {
      s = layout.status();
      break;
    }
    const std::string path = (dir / (ShardFileName(si, shards.size()) + ".tmp")).string();
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
      s = InvalidArgument(path + ": cannot create: " + std::strerror(errno));
      break;
    }
    fds.push_back(fd);
    tmp_paths.push_back(path);
    if (::ftruncate(fd, static_cast<off_t>(layout->file_size)) != 0) {
      s = InvalidArgument(path + ": cannot size to " + std::to_string(layout->file_size) + " bytes: " +
                          std::strerror(errno));
      break;
    }
    s = PWriteAll(fd, layout->prefix.data(), layout->prefix.size(), 0, path);
    for (size_t k = 0; k < shards[si].size(); ++k) {
      const TensorSpec& t = specs[shards[si][k]];
      const uint64_t key = HashBytes(t.name.data(), t.name.size(), seed);
      const int64_t n = t.shape.numel();
      for (int64_t b = 0; b < n; b += piece_elems) {
        const int64_t e = std::min(n, b + piece_elems);
        pieces.push_back({si, &t, key, InitFor(t, hidden, hybrid), b, e,
                          layout->offsets[k] + static_cast<uint64_t>(b) * DTypeSize(t.dtype)});
      }
    }
  }
  if (s.ok()) {
    threads = std::max(1, static_cast<int>(std::min<size_t>(static_cast<size_t>(threads), pieces.size())));
    s = RunPieces(pieces, fds, tmp_paths, piece_elems, threads);
  }
  for (size_t i = 0; i < fds.size(); ++i)
    if (::close(fds[i]) != 0 && s.ok()) s = InvalidArgument(tmp_paths[i] + ": close failed: " + std::strerror(errno));
  for (size_t i = 0; i < tmp_paths.size() && s.ok(); ++i) {
    const std::string final_path = (dir / ShardFileName(i, shards.size())).string();
    if (::rename(tmp_paths[i].c_str(), final_path.c_str()) != 0)
      s = InvalidArgument(final_path + ": rename failed: " + std::strerror(errno));
  }
  if (!s.ok())
    for (const std::string& p : tmp_paths) ::unlink(p.c_str());
  return s;
}

Status WriteIndex(const fs::path& dir, const std::vector<TensorSpec>& specs,
                  const std::vector<std::vector<size_t>>& shards, uint64_t total) {
  Json map = Json::object();
  for (size_t si = 0; si < shards.size(); ++si)
    for (size_t i : shards[si]) map[specs[i].name] = ShardFileName(si, shards.size());
  const Json index = {{"metadata", {{"total_size", total}}}, {"weight_map", map}};
  return WriteStringToFile((dir / "model.safetensors.index.json").string(), index.dump(2) + "\n");
}

// Gemma 4's fields as transformers' Gemma4TextConfig holds them (arch/gemma4.cpp reads
// them back): layer_types with the last layer full, full layers' own head dim and kv
// heads (layer_shapes), sliding rope 1e4, per-layer inputs over the whole vocabulary.
void SetGemma4Fields(const ShapeRow& r, ModelConfig* c) {
  const Gemma4Row& g = r.gemma4;
  const int64_t L = c->num_hidden_layers;
  c->hidden_act = "gelu_pytorch_tanh";
  c->sliding_window = r.window;
  c->final_logit_softcapping = r.final_softcap;
  c->rope_local_theta = 10000.0;
  c->attention_k_eq_v = g.k_eq_v;
  c->num_kv_shared_layers = g.kv_shared;
  c->hidden_size_per_layer_input = g.per_layer;
  c->vocab_size_per_layer_input = c->vocab_size;
  c->use_double_wide_mlp = g.double_wide;
  c->enable_moe_block = r.moe.experts > 0;
  c->layer_shapes.assign(static_cast<size_t>(L), {c->num_key_value_heads, c->head_dim});
  for (int64_t l = 0; l < L; ++l) {
    const bool full = (l + 1) % g.full_every == 0 || l == L - 1;
    c->layer_types[static_cast<size_t>(l)] = full ? AttentionType::kFull : AttentionType::kSliding;
    if (full)
      c->layer_shapes[static_cast<size_t>(l)] = {g.global_kv > 0 ? g.global_kv : c->num_key_value_heads,
                                                 g.global_head_dim};
  }
}

}  // namespace

std::vector<std::string> SynthShapeNames() {
  std::vector<std::string> names;
  for (const ShapeRow& r : Shapes()) names.push_back(r.name);
  return names;
}

Result<ModelConfig> SynthShapeConfig(const std::string& shape, DType dtype) {
  const ShapeRow* r = FindShape(shape);
  if (!r) {
    std::string known;
    for (const std::string& n : SynthShapeNames()) known += (known.empty() ? "" : ", ") + n;
    return InvalidArgument("unknown synth shape '" + shape + "' (known: " + known + ")");
  }
  ModelConfig c;
  c.family = r->family;
  c.architecture = ArchFor(r->family).class_names[0];
  c.hidden_size = r->hidden;
  c.intermediate_size = r->inter;
  c.num_hidden_layers = r->layers;
  c.num_attention_heads = r->heads;
  c.num_key_value_heads = r->kv;
  c.head_dim = r->head_dim;
  c.vocab_size = r->vocab;
  c.max_position_embeddings = r->max_pos;
  c.rms_norm_eps = r->eps;
  c.rope_theta = r->theta;
  c.rope_scaling = r->rope;
  c.tie_word_embeddings = r->tied;
  c.torch_dtype = dtype;
  c.bos_token_id = r->bos;
  c.eos_token_ids = r->eos;
  c.layer_types.assign(static_cast<size_t>(c.num_hidden_layers), AttentionType::kFull);
  c.num_experts = r->moe.experts;
  c.top_k_experts = r->moe.top_k;
  c.moe_intermediate_size = r->moe.inter;
  c.norm_topk_prob = r->moe.norm_topk;
  c.decoder_sparse_step = r->moe.sparse_step;
  c.mlp_only_layers = r->moe.mlp_only;
  if (r->hybrid.k_heads > 0) {
    const HybridRow& y = r->hybrid;
    c.linear_num_key_heads = y.k_heads;
    c.linear_num_value_heads = y.v_heads;
    c.linear_key_head_dim = y.dk;
    c.linear_value_head_dim = y.dv;
    c.linear_conv_kernel_dim = y.conv;
    c.shared_expert_intermediate_size = y.shared_inter;
    c.partial_rotary_factor = y.partial;
    for (int64_t l = 0; l < c.num_hidden_layers; ++l)
      if ((l + 1) % y.full_interval != 0) c.layer_types[static_cast<size_t>(l)] = AttentionType::kLinear;
  }
  if (c.family == ModelFamily::kGlm4Moe || c.family == ModelFamily::kGlm4MoeLite) {
    const GlmRow& g = r->glm;
    c.n_shared_experts = g.n_shared;
    c.n_group = g.n_group;
    c.topk_group = g.topk_group;
    c.routed_scaling_factor = g.scaling;
    c.q_lora_rank = g.q_lora;
    c.kv_lora_rank = g.kv_lora;
    c.qk_nope_head_dim = g.nope;
    c.qk_rope_head_dim = g.rope;
    c.v_head_dim = g.v;
    c.rope_interleave = g.interleave;
    c.partial_rotary_factor = g.partial;
    c.use_qk_norm = g.qk_norm;
    c.attention_bias = g.bias;
  }
  if (c.family == ModelFamily::kGemma3) {
    c.hidden_act = "gelu_pytorch_tanh";
    c.query_pre_attn_scalar = static_cast<double>(r->head_dim);
    c.sliding_window = r->window;
    c.attn_logit_softcapping = r->attn_softcap;
    c.final_logit_softcapping = r->final_softcap;
    c.rope_local_theta = 10000.0;
    for (int64_t l = 0; l < c.num_hidden_layers; ++l)
      if ((l + 1) % 6 != 0) c.layer_types[static_cast<size_t>(l)] = AttentionType::kSliding;
  }
  if (c.family == ModelFamily::kGemma4) SetGemma4Fields(*r, &c);
  return c;
}

namespace {

// A gated MLP's three projections of `width` under `prefix` ("model.layers.N.mlp.").
void AppendGatedMlp(const std::string& prefix, int64_t width, int64_t h, DType dt, std::vector<TensorSpec>* v) {
  v->push_back({prefix + "gate_proj.weight", dt, Shape{width, h}});
  v->push_back({prefix + "up_proj.weight", dt, Shape{width, h}});
  v->push_back({prefix + "down_proj.weight", dt, Shape{h, width}});
}

// A sparse MoE layer's router and per-expert tensors (Hugging Face's per-expert layout),
// layer prefix p ("model.layers.N.").
void AppendRoutedExperts(const ModelConfig& c, DType dt, const std::string& p, std::vector<TensorSpec>* v) {
  const int64_t h = c.hidden_size, moe = c.moe_intermediate_size;
  v->push_back({p + "mlp.gate.weight", dt, Shape{c.num_experts, h}});
  for (int64_t e = 0; e < c.num_experts; ++e) {
    AppendGatedMlp(p + "mlp.experts." + std::to_string(e) + ".", moe, h, dt, v);
  }
}

// The GLM families' tensors (Hugging Face's per-expert layout): GQA with biases or MLA,
// a dense MLP or routed experts with the router's correction bias and shared experts.
void AppendGlmAttention(const ModelConfig& c, DType dt, const std::string& p, std::vector<TensorSpec>* v) {
  const int64_t h = c.hidden_size, H = c.num_attention_heads;
  const std::string a = p + "self_attn.";
  if (c.family == ModelFamily::kGlm4Moe) {
    const int64_t q = H * c.head_dim, kv = c.num_key_value_heads * c.head_dim;
    v->push_back({a + "q_proj.weight", dt, Shape{q, h}});
    if (c.attention_bias) v->push_back({a + "q_proj.bias", dt, Shape{q}});
    v->push_back({a + "k_proj.weight", dt, Shape{kv, h}});
    if (c.attention_bias) v->push_back({a + "k_proj.bias", dt, Shape{kv}});
    v->push_back({a + "v_proj.weight", dt, Shape{kv, h}});
    if (c.attention_bias) v->push_back({a + "v_proj.bias", dt, Shape{kv}});
    v->push_back({a + "o_proj.weight", dt, Shape{h, q}});
    if (c.use_qk_norm) {
      v->push_back({a + "q_norm.weight", dt, Shape{c.head_dim}});
      v->push_back({a + "k_norm.weight", dt, Shape{c.head_dim}});
    }
    return;
  }
  const int64_t qk = c.qk_nope_head_dim + c.qk_rope_head_dim, L = c.kv_lora_rank;
  if (c.q_lora_rank > 0) {
    v->push_back({a + "q_a_proj.weight", dt, Shape{c.q_lora_rank, h}});
    v->push_back({a + "q_a_layernorm.weight", dt, Shape{c.q_lora_rank}});
    v->push_back({a + "q_b_proj.weight", dt, Shape{H * qk, c.q_lora_rank}});
  } else {
    v->push_back({a + "q_proj.weight", dt, Shape{H * qk, h}});
  }
  v->push_back({a + "kv_a_proj_with_mqa.weight", dt, Shape{L + c.qk_rope_head_dim, h}});
  v->push_back({a + "kv_a_layernorm.weight", dt, Shape{L}});
  v->push_back({a + "kv_b_proj.weight", dt, Shape{H * (c.qk_nope_head_dim + c.v_head_dim), L}});
  v->push_back({a + "o_proj.weight", dt, Shape{h, H * c.v_head_dim}});
}

std::vector<TensorSpec> GlmTensorSpecs(const ModelConfig& c, DType dt) {
  const int64_t h = c.hidden_size;
  std::vector<TensorSpec> v;
  v.push_back({"model.embed_tokens.weight", dt, Shape{c.vocab_size, h}});
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    AppendGlmAttention(c, dt, p, &v);
    if (SparseMoeLayer(c, l)) {
      AppendRoutedExperts(c, dt, p, &v);
      v.push_back({p + "mlp.gate.e_score_correction_bias", DType::kF32, Shape{c.num_experts}});
      if (c.n_shared_experts > 0) {
        const int64_t s = c.moe_intermediate_size * c.n_shared_experts;
        AppendGatedMlp(p + "mlp.shared_experts.", s, h, dt, &v);
      }
    } else {
      AppendGatedMlp(p + "mlp.", c.intermediate_size, h, dt, &v);
    }
    v.push_back({p + "input_layernorm.weight", dt, Shape{h}});
    v.push_back({p + "post_attention_layernorm.weight", dt, Shape{h}});
  }
  v.push_back({"model.norm.weight", dt, Shape{h}});
  if (!c.tie_word_embeddings) v.push_back({"lm_head.weight", dt, Shape{c.vocab_size, h}});
  return v;
}

// The hybrid Qwens' tensors, as transformers saves them (Qwen3-Next's interleaved
// in_proj_qkvz / in_proj_ba, Qwen3.5's four in_proj; per-expert MoE tensors).
std::vector<TensorSpec> HybridTensorSpecs(const ModelConfig& c, DType dt) {
  const int64_t h = c.hidden_size, q = c.num_attention_heads * c.head_dim;
  const int64_t kv = c.num_key_value_heads * c.head_dim;
  const int64_t kd = c.linear_num_key_heads * c.linear_key_head_dim, hv = c.linear_num_value_heads;
  const int64_t vd = hv * c.linear_value_head_dim, conv = 2 * kd + vd;
  std::vector<TensorSpec> v;
  v.push_back({"model.embed_tokens.weight", dt, Shape{c.vocab_size, h}});
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    if (c.layer_types[static_cast<size_t>(l)] == AttentionType::kLinear) {
      const std::string a = p + "linear_attn.";
      if (c.family == ModelFamily::kQwen3Next) {
        v.push_back({a + "in_proj_qkvz.weight", dt, Shape{2 * kd + 2 * vd, h}});
        v.push_back({a + "in_proj_ba.weight", dt, Shape{2 * hv, h}});
      } else {
        v.push_back({a + "in_proj_qkv.weight", dt, Shape{conv, h}});
        v.push_back({a + "in_proj_z.weight", dt, Shape{vd, h}});
        v.push_back({a + "in_proj_b.weight", dt, Shape{hv, h}});
        v.push_back({a + "in_proj_a.weight", dt, Shape{hv, h}});
      }
      v.push_back({a + "conv1d.weight", dt, Shape{conv, 1, c.linear_conv_kernel_dim}});
      v.push_back({a + "A_log", dt, Shape{hv}});
      v.push_back({a + "dt_bias", dt, Shape{hv}});
      v.push_back({a + "norm.weight", dt, Shape{c.linear_value_head_dim}});
      v.push_back({a + "out_proj.weight", dt, Shape{h, vd}});
    } else {
      v.push_back({p + "self_attn.q_proj.weight", dt, Shape{2 * q, h}});
      v.push_back({p + "self_attn.k_proj.weight", dt, Shape{kv, h}});
      v.push_back({p + "self_attn.v_proj.weight", dt, Shape{kv, h}});
      v.push_back({p + "self_attn.o_proj.weight", dt, Shape{h, q}});
      v.push_back({p + "self_attn.q_norm.weight", dt, Shape{c.head_dim}});
      v.push_back({p + "self_attn.k_norm.weight", dt, Shape{c.head_dim}});
    }
    if (SparseMoeLayer(c, l)) {
      AppendRoutedExperts(c, dt, p, &v);
      if (c.shared_expert_intermediate_size > 0) {
        const int64_t s = c.shared_expert_intermediate_size;
        AppendGatedMlp(p + "mlp.shared_expert.", s, h, dt, &v);
        v.push_back({p + "mlp.shared_expert_gate.weight", dt, Shape{1, h}});
      }
    } else {
      AppendGatedMlp(p + "mlp.", c.intermediate_size, h, dt, &v);
    }
    v.push_back({p + "input_layernorm.weight", dt, Shape{h}});
    v.push_back({p + "post_attention_layernorm.weight", dt, Shape{h}});
  }
  v.push_back({"model.norm.weight", dt, Shape{h}});
  if (!c.tie_word_embeddings) v.push_back({"lm_head.weight", dt, Shape{c.vocab_size, h}});
  return v;
}

// Gemma 4's tensors as transformers 5 saves Gemma4ForCausalLM: layers that read an
// earlier layer's KV have no k/v projections or k_norm, K=V full layers no v_proj, the
// MoE block's experts are fused 3-D tensors, layer_scalar is a 1-element tensor.
std::vector<TensorSpec> Gemma4TensorSpecs(const ModelConfig& c, DType dt) {
  const int64_t h = c.hidden_size, L = c.num_hidden_layers, P = c.hidden_size_per_layer_input;
  const int64_t first_shared = L - c.num_kv_shared_layers, E = c.num_experts, I = c.moe_intermediate_size;
  std::vector<TensorSpec> v;
  v.push_back({"model.embed_tokens.weight", dt, Shape{c.vocab_size, h}});
  for (int64_t l = 0; l < L; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    const LayerAttentionShape& s = c.layer_shapes[static_cast<size_t>(l)];
    const int64_t q = c.num_attention_heads * s.head_dim, kv = s.num_key_value_heads * s.head_dim;
    const bool full = c.layer_types[static_cast<size_t>(l)] == AttentionType::kFull;
    v.push_back({p + "self_attn.q_proj.weight", dt, Shape{q, h}});
    if (l < first_shared) {
      v.push_back({p + "self_attn.k_proj.weight", dt, Shape{kv, h}});
      if (!(c.attention_k_eq_v && full)) v.push_back({p + "self_attn.v_proj.weight", dt, Shape{kv, h}});
    }
    v.push_back({p + "self_attn.o_proj.weight", dt, Shape{h, q}});
    v.push_back({p + "self_attn.q_norm.weight", dt, Shape{s.head_dim}});
    if (l < first_shared) v.push_back({p + "self_attn.k_norm.weight", dt, Shape{s.head_dim}});
    const int64_t inter = c.intermediate_size * (c.use_double_wide_mlp && l >= first_shared ? 2 : 1);
    AppendGatedMlp(p + "mlp.", inter, h, dt, &v);
    if (c.enable_moe_block) {
      v.push_back({p + "router.proj.weight", dt, Shape{E, h}});
      v.push_back({p + "router.scale", dt, Shape{h}});
      v.push_back({p + "router.per_expert_scale", dt, Shape{E}});
      v.push_back({p + "experts.gate_up_proj", dt, Shape{E, 2 * I, h}});
      v.push_back({p + "experts.down_proj", dt, Shape{E, h, I}});
      for (const char* n :
           {"post_feedforward_layernorm_1", "pre_feedforward_layernorm_2", "post_feedforward_layernorm_2"})
        v.push_back({p + n + ".weight", dt, Shape{h}});
    }
    for (const char* n :
         {"input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm", "post_feedforward_layernorm"})
      v.push_back({p + n + ".weight", dt, Shape{h}});
    if (P > 0) {
      v.push_back({p + "per_layer_input_gate.weight", dt, Shape{P, h}});
      v.push_back({p + "per_layer_projection.weight", dt, Shape{h, P}});
      v.push_back({p + "post_per_layer_input_norm.weight", dt, Shape{h}});
    }
    v.push_back({p + "layer_scalar", dt, Shape{1}});
  }
  if (P > 0) {
    v.push_back({"model.embed_tokens_per_layer.weight", dt, Shape{c.vocab_size_per_layer_input, L * P}});
    v.push_back({"model.per_layer_model_projection.weight", dt, Shape{L * P, h}});
    v.push_back({"model.per_layer_projection_norm.weight", dt, Shape{P}});
  }
  v.push_back({"model.norm.weight", dt, Shape{h}});
  if (!c.tie_word_embeddings) v.push_back({"lm_head.weight", dt, Shape{c.vocab_size, h}});
  return v;
}

}  // namespace

std::vector<TensorSpec> ModelTensorSpecs(const ModelConfig& c, DType dt) {
  if (HybridFamily(c.family)) return HybridTensorSpecs(c, dt);
  if (c.family == ModelFamily::kGemma4) return Gemma4TensorSpecs(c, dt);
  if (c.family == ModelFamily::kGlm4Moe || c.family == ModelFamily::kGlm4MoeLite) return GlmTensorSpecs(c, dt);
  const int64_t h = c.hidden_size, q = c.num_attention_heads * c.head_dim;
  const int64_t kv = c.num_key_value_heads * c.head_dim, inter = c.intermediate_size;
  std::vector<TensorSpec> v;
  v.push_back({"model.embed_tokens.weight", dt, Shape{c.vocab_size, h}});
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    v.push_back({p + "self_attn.q_proj.weight", dt, Shape{q, h}});
    v.push_back({p + "self_attn.k_proj.weight", dt, Shape{kv, h}});
    v.push_back({p + "self_attn.v_proj.weight", dt, Shape{kv, h}});
    v.push_back({p + "self_attn.o_proj.weight", dt, Shape{h, q}});
    if (c.family != ModelFamily::kLlama) {
      v.push_back({p + "self_attn.q_norm.weight", dt, Shape{c.head_dim}});
      v.push_back({p + "self_attn.k_norm.weight", dt, Shape{c.head_dim}});
    }
    if (c.family == ModelFamily::kGemma3) {
      v.push_back({p + "pre_feedforward_layernorm.weight", dt, Shape{h}});
      v.push_back({p + "post_feedforward_layernorm.weight", dt, Shape{h}});
    }
    if (c.family == ModelFamily::kQwen3Moe && SparseMoeLayer(c, l)) {
      AppendRoutedExperts(c, dt, p, &v);
    } else {
      AppendGatedMlp(p + "mlp.", inter, h, dt, &v);
    }
    v.push_back({p + "input_layernorm.weight", dt, Shape{h}});
    v.push_back({p + "post_attention_layernorm.weight", dt, Shape{h}});
  }
  v.push_back({"model.norm.weight", dt, Shape{h}});
  if (!c.tie_word_embeddings) v.push_back({"lm_head.weight", dt, Shape{c.vocab_size, h}});
  return v;
}

namespace {

// Writes a checkpoint of `config` (opts.shape unused); generation_config.json gets
// gen_eos.
Status WriteCheckpoint(const ModelConfig& config, const std::vector<int32_t>& gen_eos, const SynthOptions& opts,
                       SynthReport* report) {
  const double start = NowSeconds();
  if (opts.dtype == DType::kI32)
    return InvalidArgument("synth model dtype must be F32, F16 or BF16, got " + std::string(DTypeName(opts.dtype)));
  if (opts.out_dir.empty()) return InvalidArgument("synth model: no output directory given");
  const fs::path dir(opts.out_dir);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return InvalidArgument(opts.out_dir + ": cannot create directory: " + ec.message());
  AX_RETURN_IF_ERROR(RemoveSafetensorsFiles(dir));

  const std::vector<TensorSpec> specs = ModelTensorSpecs(config, opts.dtype);
  const auto shards = SplitShards(specs, std::max<uint64_t>(1, opts.max_shard_bytes));
  uint64_t total = 0;
  for (const TensorSpec& t : specs) total += t.nbytes();
  int threads = opts.num_threads > 0 ? opts.num_threads : static_cast<int>(std::thread::hardware_concurrency());
  const int64_t piece = std::clamp<int64_t>(opts.piece_elems, 1, int64_t{1} << 26);
  AX_RETURN_IF_ERROR(WriteShards(dir, specs, shards, opts.seed, config.hidden_size, piece, std::max(1, threads),
                                 HybridFamily(config.family)));
  if (shards.size() > 1) AX_RETURN_IF_ERROR(WriteIndex(dir, specs, shards, total));

  AX_RETURN_IF_ERROR(WriteStringToFile((dir / "config.json").string(), ModelConfigToJson(config)));
  GenerationConfig gen;
  gen.bos_token_id = config.bos_token_id;
  gen.eos_token_ids = gen_eos;
  AX_RETURN_IF_ERROR(WriteStringToFile((dir / "generation_config.json").string(), GenerationConfigToJson(gen)));
  if (!opts.tokenizer_dir.empty()) AX_RETURN_IF_ERROR(CopyTokenizer(opts.tokenizer_dir, dir));
  if (report) {
    report->parameters = ParameterCount(config);
    report->bytes = total;
    report->shards = static_cast<int>(shards.size());
    report->seconds = NowSeconds() - start;
  }
  return Status::Ok();
}

}  // namespace

Status WriteSynthModel(const SynthOptions& opts, SynthReport* report) {
  if (opts.dtype == DType::kI32)
    return InvalidArgument("synth model dtype must be F32, F16 or BF16, got " + std::string(DTypeName(opts.dtype)));
  AX_ASSIGN_OR_RETURN(ModelConfig config, SynthShapeConfig(opts.shape, opts.dtype));
  return WriteCheckpoint(config, FindShape(opts.shape)->gen_eos, opts, report);
}

Status WriteSynthModelFromConfig(const ModelConfig& config, const SynthOptions& opts, SynthReport* report) {
  return WriteCheckpoint(config, config.eos_token_ids, opts, report);
}

}  // namespace ax
