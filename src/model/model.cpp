#include "model/model.h"

#include <map>

#include "model/arch/arch.h"
#include "model/safetensors.h"

namespace ax {
namespace {

// The stored dtype of the matrices, as the embedding's (a quantized one's: its scales').
DType MatrixDType(const WeightStore& store) {
  for (const auto& [name, e] : store.tensors()) {
    if (e.shape.ndim != 2 || name.find("embed_tokens.weight") == std::string::npos) continue;
    const TensorEntry* scales = store.Find(name.substr(0, name.size() - 6) + "scales");
    return e.dtype == DType::kU32 && scales != nullptr ? scales->dtype : e.dtype;
  }
  return DType::kF32;
}

// The checkpoint's tensors the mapping did not read, grouped by their first two name
// components ("vision_tower.vision_model: 438 tensors").
std::vector<std::string> Skipped(const WeightStore& store, const WeightLoader& loader) {
  std::map<std::string, int> groups;
  for (const auto& [name, e] : store.tensors()) {
    if (loader.used(name)) continue;
    const size_t dot = name.find('.');
    const size_t dot2 = dot == std::string::npos ? dot : name.find('.', dot + 1);
    ++groups[name.substr(0, dot2)];
  }
  std::vector<std::string> out;
  out.reserve(groups.size());
  for (const auto& [group, n] : groups) out.push_back(group + ": " + std::to_string(n) + " tensor" + (n == 1 ? "" : "s"));
  return out;
}

}  // namespace

Model::Model(Backend& backend) : backend_(backend) {}
Model::~Model() = default;

Result<std::unique_ptr<Model>> Model::Load(const std::string& dir, Backend& backend, const ModelLoadOptions& opts) {
  AX_ASSIGN_OR_RETURN(ModelConfig cfg, LoadModelConfig(dir));
  AX_ASSIGN_OR_RETURN(WeightStore store, WeightStore::OpenDir(dir));
  std::unique_ptr<Model> m(new Model(backend));
  m->config_ = cfg;
  WeightLoader loader(store, &backend, &cfg.quantization);
  auto arch = ArchFor(cfg.family).load(cfg, loader);
  if (!arch.ok()) return arch.status().WithPrefix(dir);
  m->arch_ = std::move(*arch);
  AX_RETURN_IF_ERROR(ValidateMemory(m->arch_->memory).WithPrefix(dir));
  for (const GatedDeltaShape& gd : m->arch_->gated_delta)
    AX_RETURN_IF_ERROR(backend.CheckGatedDelta(gd).WithPrefix(dir));
  for (size_t l = 0; l < m->arch_->attention.size(); ++l) {
    Status s = backend.CheckAttention(m->arch_->attention[l]);
    if (!s.ok()) return s.WithPrefix(dir + ": layer " + std::to_string(l));
  }
  for (const MlaShape& mla : m->arch_->mla) AX_RETURN_IF_ERROR(backend.CheckMla(mla).WithPrefix(dir));
  if (m->arch_->noaux_router) AX_RETURN_IF_ERROR(backend.CheckMla(MlaShape{}).WithPrefix(dir));
  for (const MoeShape& moe : m->arch_->moe) AX_RETURN_IF_ERROR(backend.CheckMoe(moe).WithPrefix(dir));

  m->weight_dtype_ = MatrixDType(store);
  m->weight_bytes_ = loader.uploaded_bytes();
  AX_ASSIGN_OR_RETURN(m->ws_, AllocateWorkspace(backend, m->arch_->sizes, opts.max_batch_tokens,
                                                std::min(opts.max_logit_rows, opts.max_batch_tokens)));
  return m;
}

Result<ModelCheck> Model::Check(const std::string& dir) {
  ModelCheck check;
  AX_ASSIGN_OR_RETURN(check.config, LoadModelConfig(dir));
  AX_ASSIGN_OR_RETURN(WeightStore store, WeightStore::OpenDir(dir));
  WeightLoader loader(store, nullptr, &check.config.quantization);
  const ArchInfo& arch = ArchFor(check.config.family);
  auto mapped = arch.load(check.config, loader);
  if (!mapped.ok()) return mapped.status().WithPrefix(dir);
  AX_RETURN_IF_ERROR(ValidateMemory((*mapped)->memory).WithPrefix(dir));
  check.features = arch.features(check.config);
  check.skipped = Skipped(store, loader);
  check.weight_bytes = store.total_bytes();
  check.num_tensors = store.tensors().size();
  for (const auto& [name, e] : store.tensors()) check.parameters += e.shape.numel();
  check.dtype = DTypeName(MatrixDType(store));
  check.weights = check.config.quantization.quantized() ? check.config.quantization.Describe() : check.dtype;
  return check;
}

const std::vector<LayerMemory>& Model::memory() const { return arch_->memory; }

Result<KvCache> Model::AllocateKvCache(int num_blocks, int block_size, int state_slots, int state_checkpoints) {
  return AllocateKvCache({KvGroup{0, num_blocks}}, block_size, state_slots, state_checkpoints);
}

Result<KvCache> Model::AllocateKvCache(const std::vector<KvGroup>& groups, int block_size, int state_slots,
                                       int state_checkpoints) {
  const bool rec = HasRecurrentLayers(arch_->memory);
  return ax::AllocateKvCache(backend_, arch_->memory, groups, block_size, rec ? state_slots : 0,
                             rec ? state_checkpoints : 0);
}

Status Model::RestoreState(KvCache& kv, int slot, int checkpoint) {
  if (slot < 0 || slot >= kv.num_state_slots || checkpoint < 0 || checkpoint >= kv.state_checkpoints)
    return InvalidArgument("RestoreState: slot " + std::to_string(slot) + " of " + std::to_string(kv.num_state_slots) +
                           ", checkpoint " + std::to_string(checkpoint) + " of " +
                           std::to_string(kv.state_checkpoints));
  for (size_t l = 0; l < arch_->memory.size() && l < kv.layers.size(); ++l)
    if (arch_->memory[l].kind == LayerMemoryKind::kRecurrent) backend_.RestoreState(kv.layers[l], slot, checkpoint);
  return Status::Ok();
}

bool Model::recurrent() const { return HasRecurrentLayers(arch_->memory); }

size_t Model::StateBytes(int state_slots, int checkpoints) const {
  return StateBytesPerSlot(arch_->memory) * static_cast<size_t>(std::max(0, state_slots)) *
         static_cast<size_t>(1 + std::max(0, checkpoints));
}

std::vector<int> Model::KvGroupWindows(bool release_windows) const {
  return ax::KvGroupWindows(arch_->memory, release_windows);
}

std::vector<size_t> Model::KvGroupBytesPerToken(const std::vector<int>& windows) const {
  return ax::KvGroupBytesPerToken(arch_->memory, windows, backend_.kv_dtype());
}

size_t Model::KvBytesPerToken() const { return ax::KvBytesPerToken(arch_->memory, backend_.kv_dtype()); }

std::vector<std::string> Model::Features() const { return ArchFor(config_.family).features(config_); }

Status Model::CheckOutput(const ForwardBatch& batch, const ForwardOutput& out) const {
  const bool top = out.top_k > 0;
  if ((out.logits != nullptr) + (out.argmax != nullptr) + top != 1)
    return InvalidArgument("Forward: the output asks for exactly one of logits, argmax or top-k");
  if (top && (out.top_k > Backend::kMaxTopRows || out.top_k > config_.vocab_size || out.top_ids == nullptr ||
              out.top_vals == nullptr))
    return InvalidArgument("Forward: top-k needs k in [1, " + std::to_string(Backend::kMaxTopRows) +
                           "] and id and value outputs, got k " + std::to_string(out.top_k));
  if ((out.top_mass == nullptr) != (out.inv_temperature == nullptr) || (out.top_mass != nullptr && !top))
    return InvalidArgument("Forward: mass and inverse temperatures go together, with top-k");
  const LogitPenalties& penalties = out.penalties;
  if (!penalties.any()) return Status::Ok();
  if (out.logits != nullptr) return InvalidArgument("Forward: penalties apply to argmax or top-k outputs only");
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

Status Model::Forward(const ForwardBatch& batch, KvCache& kv, const ForwardOutput& out) {
  const int64_t n = batch.n_tokens();
  if (n == 0) return Status::Ok();
  if (n > ws_.max_tokens)
    return InvalidArgument("forward batch of " + std::to_string(n) + " tokens exceeds the workspace (" +
                           std::to_string(ws_.max_tokens) + ")");
  AX_RETURN_IF_ERROR(CheckOutput(batch, out));
  AX_RETURN_IF_ERROR(batch.Validate(config_.vocab_size, kv));
  if (kv.layers.size() != arch_->memory.size())
    return InvalidArgument("forward: the KV cache has " + std::to_string(kv.layers.size()) + " layers, the model " +
                           std::to_string(arch_->memory.size()));
  return RunForward(backend_, arch_->head, ws_, batch, out, config_.vocab_size,
                    [&] { arch_->Layers(backend_, ws_, kv, batch); });
}

Status Model::ReadLogits(int64_t rows, float* out) {
  if (rows < 0 || rows > ws_.max_logit_rows)
    return InvalidArgument("ReadLogits: rows must be in [0, " + std::to_string(ws_.max_logit_rows) + "], got " +
                           std::to_string(rows));
  return backend_.ReadToHost(ws_.logits, out, static_cast<size_t>(rows * config_.vocab_size) * sizeof(float));
}

}  // namespace ax
