// Model: a loaded checkpoint on a backend — config, weights, activation workspace —
// that runs ForwardBatch → logits. It never sees requests, the scheduler or HTTP.
#pragma once

#include <memory>
#include <string>

#include "backend/backend.h"
#include "model/config.h"
#include "model/forward_batch.h"
#include "model/layers/head.h"
#include "model/layers/workspace.h"
#include "model/memory.h"

namespace ax {

class ArchModel;  // model/arch/arch.h

struct ModelLoadOptions {
  int64_t max_batch_tokens = 512;  // rows per forward (prefill chunk + decodes)
  int64_t max_logit_rows = 64;     // logits computed per chunk (more rows loop)
};

// What doctor reports about a model directory without reading weight bytes.
struct ModelCheck {
  ModelConfig config;
  std::vector<std::string> features;  // ArchInfo::features
  std::vector<std::string> skipped;   // tensors of the checkpoint that are not loaded (other towers)
  size_t weight_bytes = 0;
  size_t num_tensors = 0;
  int64_t parameters = 0;
  std::string dtype;  // stored dtype of the matrices
  std::string weights;  // as Model::weight_format()
};

class Model {
 public:
  ~Model();

  // Loads dir (config.json + safetensors) onto `backend`, which must outlive the model.
  static Result<std::unique_ptr<Model>> Load(const std::string& dir, Backend& backend,
                                             const ModelLoadOptions& opts = {});
  // Validates config.json and every tensor's name, dtype and shape from the headers.
  static Result<ModelCheck> Check(const std::string& dir);

  const ModelConfig& config() const { return config_; }
  DType weight_dtype() const { return weight_dtype_; }
  // The weight format a route reports: the stored dtype ("BF16"), or an MLX
  // checkpoint's quantization ("affine 4-bit g64", plus " mixed" when modules differ).
  std::string weight_format() const {
    return config_.quantization.quantized() ? config_.quantization.Describe() : DTypeName(weight_dtype_);
  }
  size_t weight_bytes() const { return weight_bytes_; }
  Backend& backend() const { return backend_; }
  int64_t max_batch_tokens() const { return ws_.max_tokens; }

  // What each layer keeps per token (model/memory.h).
  const std::vector<LayerMemory>& memory() const;
  // Allocates the paged KV cache: num_blocks blocks of block_size tokens per layer,
  // one full group (windowed layers keep every block too); a model with recurrent
  // layers also gets state_slots state slots (sequences that may run at once).
  Result<KvCache> AllocateKvCache(int num_blocks, int block_size, int state_slots = kDefaultStateSlots,
                                  int state_checkpoints = 0);
  // One pool per KV group (windows as KvGroupWindows gives; model/memory.h).
  Result<KvCache> AllocateKvCache(const std::vector<KvGroup>& groups, int block_size,
                                  int state_slots = kDefaultStateSlots, int state_checkpoints = 0);
  // Recurrent models: every recurrent layer's state of `slot` becomes the state after
  // row `checkpoint` of the last forward that kept its rows (ForwardBatch::keep_states):
  // a draft rejection's rollback, a copy of the state (no recompute).
  Status RestoreState(KvCache& kv, int slot, int checkpoint);
  static constexpr int kDefaultStateSlots = 16;
  // Bytes the recurrent layers' state slots take: state_slots slots, each with
  // `checkpoints` draft checkpoints beside it (0 for a model without recurrent layers).
  size_t StateBytes(int state_slots, int checkpoints) const;
  // Whether the model has recurrent layers (GatedDelta): each running sequence needs a
  // state slot, and neither prefix hits nor n-gram drafts apply (model/memory.h).
  bool recurrent() const;
  // The KV groups' windows (model/memory.h KvGroupWindows).
  std::vector<int> KvGroupWindows(bool release_windows) const;
  // Bytes one token takes in each group's layers, in the backend's KV dtype.
  std::vector<size_t> KvGroupBytesPerToken(const std::vector<int>& windows) const;
  // Bytes one cached token takes over all layers.
  size_t KvBytesPerToken() const;
  // Features of the checkpoint (doctor's report; ArchInfo::features).
  std::vector<std::string> Features() const;

  // Runs one forward over `batch` (validated against the vocabulary and the cache
  // first) and writes what `out` asks for (model/layers/head.h): the logits of every
  // logit row [rows, vocab]; each row's argmax [rows]; or each row's k best ids and
  // logits in canonical order [rows, k] (1 <= k <= Backend::kMaxTopRows), with masses
  // at the given inverse temperatures when asked. With penalties (argmax or top-k only;
  // Backend::kMaxPenaltyRows / kMaxPenaltyEntries at most; every id < vocab, as a
  // sampler's seen tokens are), of the penalised logits.
  Status Forward(const ForwardBatch& batch, KvCache& kv, const ForwardOutput& out);
  // The logits of the first `rows` logit rows of the last forward, which must have
  // computed them in one piece (at most max_logit_rows() rows), into out [rows, vocab]
  // (penalised if it applied penalties): the rows a top-k forward could not sample
  // from its candidates.
  Status ReadLogits(int64_t rows, float* out);
  int64_t max_logit_rows() const { return ws_.max_logit_rows; }

 private:
  explicit Model(Backend& backend);
  Status CheckOutput(const ForwardBatch& batch, const ForwardOutput& out) const;

  Backend& backend_;
  ModelConfig config_;
  DType weight_dtype_ = DType::kF32;
  size_t weight_bytes_ = 0;
  std::unique_ptr<ArchModel> arch_;
  Workspace ws_;
};

}  // namespace ax
