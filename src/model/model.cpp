#include "model/model.h"

#include "model/arch/arch.h"
#include "model/layers/rope.h"
#include "model/safetensors.h"

namespace ax {

const ArchHooks& ArchFor(ModelFamily family) {
  switch (family) {
    case ModelFamily::kLlama: return LlamaArch();
    case ModelFamily::kQwen3: return Qwen3Arch();
  }
  return LlamaArch();
}

namespace {

DType MatrixDType(const WeightStore& store) {
  if (const TensorEntry* e = store.Find("model.embed_tokens.weight")) return e->dtype;
  return DType::kF32;
}

}  // namespace

Model::~Model() = default;

Result<std::unique_ptr<Model>> Model::Load(const std::string& dir, Backend& backend, const ModelLoadOptions& opts) {
  AX_ASSIGN_OR_RETURN(ModelConfig cfg, LoadModelConfig(dir));
  AX_ASSIGN_OR_RETURN(WeightStore store, WeightStore::OpenDir(dir));
  std::unique_ptr<Model> m(new Model(backend));
  m->config_ = cfg;
  m->arch_ = &ArchFor(cfg.family);
  m->weight_dtype_ = MatrixDType(store);
  WeightLoader loader(store, &backend);
  AX_RETURN_IF_ERROR(m->arch_->map_weights(cfg, loader, &m->weights_).WithPrefix(dir));
  m->weight_bytes_ = loader.uploaded_bytes();
  const std::vector<float> inv_freq = RopeInvFreq(cfg);
  AX_ASSIGN_OR_RETURN(m->weights_.inv_freq,
                      backend.UploadWeight(TensorView{const_cast<float*>(inv_freq.data()), DType::kF32,
                                                      Shape{static_cast<int64_t>(inv_freq.size())}, Device::kCpu},
                                           DType::kF32));
  AX_ASSIGN_OR_RETURN(m->ws_, AllocateDecoderWorkspace(backend, cfg, opts.max_batch_tokens,
                                                       std::min(opts.max_logit_rows, opts.max_batch_tokens)));
  return m;
}

Result<ModelCheck> Model::Check(const std::string& dir) {
  ModelCheck check;
  AX_ASSIGN_OR_RETURN(check.config, LoadModelConfig(dir));
  AX_ASSIGN_OR_RETURN(WeightStore store, WeightStore::OpenDir(dir));
  WeightLoader loader(store, nullptr);
  DecoderWeights unused;
  AX_RETURN_IF_ERROR(ArchFor(check.config.family).map_weights(check.config, loader, &unused).WithPrefix(dir));
  check.weight_bytes = store.total_bytes();
  check.num_tensors = store.tensors().size();
  for (const auto& [name, e] : store.tensors()) check.parameters += e.shape.numel();
  check.dtype = DTypeName(MatrixDType(store));
  return check;
}

Result<KvCache> Model::AllocateKvCache(int num_blocks, int block_size) {
  if (num_blocks <= 0 || block_size <= 0) return InvalidArgument("KV cache needs positive blocks and block size");
  KvCache kv;
  kv.num_blocks = num_blocks;
  kv.block_size = block_size;
  const Shape shape{num_blocks, block_size, config_.num_key_value_heads, config_.head_dim};
  for (int64_t l = 0; l < config_.num_hidden_layers; ++l) {
    KvLayerView layer;
    layer.block_size = block_size;
    AX_ASSIGN_OR_RETURN(layer.k, backend_.Alloc(backend_.kv_dtype(), shape));
    AX_ASSIGN_OR_RETURN(layer.v, backend_.Alloc(backend_.kv_dtype(), shape));
    kv.layers.push_back(layer);
  }
  return kv;
}

size_t Model::KvBytesPerToken() const {
  return static_cast<size_t>(2 * config_.num_hidden_layers * config_.num_key_value_heads * config_.head_dim) *
         DTypeSize(backend_.kv_dtype());
}

Status Model::Forward(const ForwardBatch& batch, KvCache& kv, float* logits_out) {
  ForwardOutput out;
  out.logits = logits_out;
  return arch_->forward(backend_, config_, weights_, ws_, kv, batch, out);
}

Status Model::ForwardTop(const ForwardBatch& batch, KvCache& kv, int k, int32_t* ids_out, float* logits_out,
                         const float* inv_temperature, float* mass_out, const LogitPenalties& penalties) {
  if (k < 1 || k > Backend::kMaxTopRows || k > config_.vocab_size)
    return InvalidArgument("ForwardTop: k must be in [1, " + std::to_string(Backend::kMaxTopRows) + "], got " +
                           std::to_string(k));
  ForwardOutput out;
  out.top_k = k;
  out.top_ids = ids_out;
  out.top_vals = logits_out;
  out.top_mass = mass_out;
  out.inv_temperature = inv_temperature;
  if ((mass_out == nullptr) != (inv_temperature == nullptr))
    return InvalidArgument("ForwardTop: mass_out and inv_temperature go together");
  out.penalties = penalties;
  AX_RETURN_IF_ERROR(CheckPenalties(batch, penalties));
  return arch_->forward(backend_, config_, weights_, ws_, kv, batch, out);
}

Status Model::CheckPenalties(const ForwardBatch& batch, const LogitPenalties& penalties) const {
  if (!penalties.any()) return Status::Ok();
  const int64_t rows = static_cast<int64_t>(batch.logit_rows.size());
  if (rows > Backend::kMaxPenaltyRows || penalties.begin[rows] > Backend::kMaxPenaltyEntries)
    return InvalidArgument("penalties: at most " + std::to_string(Backend::kMaxPenaltyRows) + " logit rows and " +
                           std::to_string(Backend::kMaxPenaltyEntries) + " entries");
  if (penalties.begin[0] != 0) return InvalidArgument("penalties: begin[0] must be 0");
  for (int64_t r = 0; r < rows; ++r) {
    if (penalties.begin[r] > penalties.begin[r + 1]) return InvalidArgument("penalties: begin must not decrease");
  }
  return Status::Ok();
}

Status Model::ReadLogits(int64_t rows, float* out) {
  if (rows < 0 || rows > ws_.max_logit_rows)
    return InvalidArgument("ReadLogits: rows must be in [0, " + std::to_string(ws_.max_logit_rows) + "], got " +
                           std::to_string(rows));
  return backend_.ReadToHost(ws_.logits, out, static_cast<size_t>(rows * config_.vocab_size) * sizeof(float));
}

Status Model::ForwardArgmax(const ForwardBatch& batch, KvCache& kv, int32_t* ids_out,
                            const LogitPenalties& penalties) {
  ForwardOutput out;
  out.argmax = ids_out;
  out.penalties = penalties;
  AX_RETURN_IF_ERROR(CheckPenalties(batch, penalties));
  return arch_->forward(backend_, config_, weights_, ws_, kv, batch, out);
}

}  // namespace ax
