// Loads a model directory on the CPU backend and runs ForwardBatches over a KV cache
// whose block table is deliberately scrambled (blocks in reverse order), so golden
// tests exercise the paged layout rather than a contiguous special case.
#pragma once

#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "model/model.h"

namespace ax::testing {

inline nlohmann::json ReadJson(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

// max_i |a_i - b_i| / max_i |b_i|: the error relative to the row's scale (logits near
// zero make element-wise ratios meaningless).
inline double RowRelativeError(const float* a, const std::vector<double>& b) {
  double max_diff = 0, max_ref = 0;
  for (size_t i = 0; i < b.size(); ++i) {
    max_diff = std::max(max_diff, std::abs(static_cast<double>(a[i]) - b[i]));
    max_ref = std::max(max_ref, std::abs(b[i]));
  }
  return max_diff / std::max(max_ref, 1e-30);
}

inline int32_t Argmax(const float* x, int64_t n) {
  int32_t best = 0;
  for (int64_t i = 1; i < n; ++i)
    if (x[i] > x[best]) best = static_cast<int32_t>(i);
  return best;
}

// A model on the CPU backend. The oracle comparisons run at --precision f32 (an f32 KV
// cache), which agrees with transformers' float32 to 1e-4; the backend's default bf16
// KV cache (Precision::kAuto) rounds every key and value to 8 bits of mantissa and is
// checked at its own tolerance (test_fixtures.cpp).
class ModelHarness {
 public:
  explicit ModelHarness(const std::string& dir, int64_t max_batch_tokens = 128, int threads = 2, int block_size = 4,
                        int num_blocks = 256, int64_t max_logit_rows = 64, Precision precision = Precision::kF32) {
    BackendOptions opts;
    opts.threads = threads;
    opts.precision = precision;
    backend_ = std::move(CreateBackend("cpu", opts).value());
    ModelLoadOptions mopts;
    mopts.max_batch_tokens = max_batch_tokens;
    mopts.max_logit_rows = max_logit_rows;
    auto m = Model::Load(dir, *backend_, mopts);
    status_ = m.status();
    if (!m.ok()) return;
    model_ = std::move(m).value();
    kv_ = model_->AllocateKvCache(num_blocks, block_size).value();
    for (int b = num_blocks - 1; b >= 0; --b) blocks_.push_back(b);
  }

  const Status& status() const { return status_; }
  Model& model() { return *model_; }
  int64_t vocab() const { return model_->config().vocab_size; }

  // Runs tokens [begin, end) of `seq` as one chunk; returns logits for every row
  // ([end-begin, vocab]) when all_logits, else for the last row only.
  std::vector<float> Chunk(const std::vector<int32_t>& seq, int64_t begin, int64_t end, bool all_logits) {
    ForwardBatch batch;
    batch.AddSequence(seq.data() + begin, end - begin, static_cast<int32_t>(begin), blocks_, kv_.block_size,
                      /*want_last_logits=*/true, all_logits);
    std::vector<float> logits(batch.logit_rows.size() * static_cast<size_t>(vocab()));
    last_status_ = model_->Forward(batch, kv_, ForwardOutput::Logits(logits.data()));
    return logits;
  }
  // The same chunk through Model::Forward with an argmax output: one id per logit row.
  std::vector<int32_t> ChunkArgmax(const std::vector<int32_t>& seq, int64_t begin, int64_t end, bool all_logits) {
    ForwardBatch batch;
    batch.AddSequence(seq.data() + begin, end - begin, static_cast<int32_t>(begin), blocks_, kv_.block_size,
                      /*want_last_logits=*/true, all_logits);
    std::vector<int32_t> ids(batch.logit_rows.size(), -1);
    last_status_ = model_->Forward(batch, kv_, ForwardOutput::Argmax(ids.data()));
    return ids;
  }
  // The same chunk through Model::Forward with a top-k output: k ids and logits per logit row.
  // With mass, also each row's mass at inverse temperature inv_t[row].
  Status ChunkTop(const std::vector<int32_t>& seq, int64_t begin, int64_t end, int k, int32_t* ids, float* vals,
                  const float* inv_t = nullptr, float* mass = nullptr) {
    ForwardBatch batch;
    batch.AddSequence(seq.data() + begin, end - begin, static_cast<int32_t>(begin), blocks_, kv_.block_size,
                      /*want_last_logits=*/true, /*all_logits=*/true);
    return model_->Forward(batch, kv_, ForwardOutput::Top(k, ids, vals, inv_t, mass));
  }
  const Status& last_status() const { return last_status_; }

 private:
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<Model> model_;
  KvCache kv_;
  std::vector<int32_t> blocks_;
  Status status_;
  Status last_status_;
};

}  // namespace ax::testing
