// Model: a loaded checkpoint on a backend — config, weights, activation workspace —
// that runs ForwardBatch → logits. It never sees requests, the scheduler or HTTP.
#pragma once

#include <memory>
#include <string>

#include "backend/backend.h"
#include "model/config.h"
#include "model/forward_batch.h"
#include "model/layers/decoder.h"

namespace ax {

struct ModelLoadOptions {
  int64_t max_batch_tokens = 512;  // rows per forward (prefill chunk + decodes)
  int64_t max_logit_rows = 64;     // logits computed per chunk (more rows loop)
};

// What doctor reports about a model directory without reading weight bytes.
struct ModelCheck {
  ModelConfig config;
  size_t weight_bytes = 0;
  size_t num_tensors = 0;
  int64_t parameters = 0;
  std::string dtype;  // stored dtype of the matrices
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
  size_t weight_bytes() const { return weight_bytes_; }
  Backend& backend() const { return backend_; }
  int64_t max_batch_tokens() const { return ws_.max_tokens; }

  // Allocates the paged KV cache: num_blocks blocks of block_size tokens per layer.
  Result<KvCache> AllocateKvCache(int num_blocks, int block_size);
  // Bytes one cached token takes over all layers (K and V, f32).
  size_t KvBytesPerToken() const;

  // Runs one forward; logits_out holds [batch.logit_rows.size(), vocab] on return.
  Status Forward(const ForwardBatch& batch, KvCache& kv, float* logits_out);
  // The same forward, but only each logit row's argmax (lowest id on ties) is computed
  // on the backend and read back: ids_out holds [batch.logit_rows.size()] on return.
  // What a greedy step needs, without moving a vocabulary of logits per row.
  // With penalties ([logit rows]; Backend::kMaxPenaltyRows / kMaxPenaltyEntries at most;
  // every id < vocab, as a sampler's seen tokens are), the argmax of the penalised logits.
  Status ForwardArgmax(const ForwardBatch& batch, KvCache& kv, int32_t* ids_out,
                       const LogitPenalties& penalties = {});
  // The same forward, reading back each logit row's k best ids and logits in canonical
  // order ([logit rows, k] each; 1 <= k <= Backend::kMaxTopRows): what top-k sampling
  // needs (Sampler::SampleTop).
  // With mass_out, also each row's mass at inverse temperature inv_temperature[row]
  // ([logit rows] each; Backend::RowMass): with the k best, what top-p and min-p
  // sampling need (Sampler::SampleTopMass) for most rows. With penalties, all of it
  // of the penalised logits (as ForwardArgmax).
  Status ForwardTop(const ForwardBatch& batch, KvCache& kv, int k, int32_t* ids_out, float* logits_out,
                    const float* inv_temperature = nullptr, float* mass_out = nullptr,
                    const LogitPenalties& penalties = {});
  // The logits of the first `rows` logit rows of the last forward, which must have
  // computed them in one piece (at most max_logit_rows() rows), into out [rows, vocab]
  // (penalised if it applied penalties): the rows a ForwardTop could not sample from
  // its candidates.
  Status ReadLogits(int64_t rows, float* out);
  int64_t max_logit_rows() const { return ws_.max_logit_rows; }

 private:
  Model(Backend& backend) : backend_(backend) {}
  Status CheckPenalties(const ForwardBatch& batch, const LogitPenalties& penalties) const;

  Backend& backend_;
  ModelConfig config_;
  DType weight_dtype_ = DType::kF32;
  size_t weight_bytes_ = 0;
  DecoderWeights weights_;
  DecoderWorkspace ws_;
  const struct ArchHooks* arch_ = nullptr;
};

}  // namespace ax
