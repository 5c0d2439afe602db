// AttentionBlock's K=V layers (Gemma 4's attention_k_eq_v): projecting k once and
// taking v as the v-norm of that projection gives exactly what the same layer computes
// with an explicit v projection equal to k's.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "model/forward_batch.h"
#include "model/layers/attention.h"
#include "model/memory.h"

namespace ax {
namespace {

TEST(AttentionBlock, KEqualsVMatchesAnExplicitVProjection) {
  auto be = std::move(CreateBackend("cpu", BackendOptions{}).value());
  const int64_t hidden = 16, n = 5;
  AttentionSpec spec;
  spec.shape = AttentionShape{4, 2, 8, 0, 0.5f, 0.0f, 1e-6f};
  const int64_t q_dim = 32, kv_dim = 16;
  std::mt19937 rng(3);
  std::normal_distribution<float> dist;
  const auto upload = [&](int64_t rows, int64_t cols, float fill = 0.0f) {
    std::vector<float> v(static_cast<size_t>(rows * cols));
    for (float& x : v) x = fill != 0.0f ? fill : dist(rng);
    const TensorView host{v.data(), DType::kF32, cols == 1 ? Shape{rows} : Shape{rows, cols}, Device::kCpu};
    return be->UploadWeight(host, DType::kF32).value();
  };
  AttentionWeights w;
  w.wq = upload(q_dim, hidden);
  w.wk = upload(kv_dim, hidden);
  w.wo = upload(hidden, q_dim);
  w.q_norm = upload(8, 1);
  w.k_norm = upload(8, 1);
  w.v_norm = upload(8, 1, 1.0f);
  spec.inv_freq = upload(4, 1);
  AttentionWeights explicit_v = w;
  explicit_v.wv = w.wk;

  WorkspaceSizes sizes{hidden, q_dim, kv_dim, 2, 8};
  const std::vector<LayerMemory> memory = {LayerMemory{LayerMemoryKind::kPagedKv, 2, 8, 0, false, -1}};
  ForwardBatch batch;
  const std::vector<int32_t> ids = {1, 2, 3, 4, 5};
  batch.AddSequence(ids.data(), n, 0, std::vector<int32_t>{0, 1}, 4, true, true, true);
  std::vector<std::vector<float>> outs;
  for (const AttentionWeights* weights : {&w, &explicit_v}) {
    auto ws = AllocateWorkspace(*be, sizes, 8, 8).value();
    auto kv = AllocateKvCache(*be, memory, {KvGroup{0, 4}}, 4).value();
    ASSERT_TRUE(be->BeginForward(batch.meta()).ok());
    TensorView h = View(ws.h, n, hidden), out = View(ws.o, n, hidden);
    std::mt19937 in_rng(9);
    for (int64_t i = 0; i < n * hidden; ++i) h.as<float>()[i] = dist(in_rng);
    AttentionBlock(*be, spec, *weights, kv.layers[0], ws, h, out, /*accumulate=*/false, n);
    outs.emplace_back(out.as<float>(), out.as<float>() + n * hidden);
  }
  EXPECT_EQ(std::memcmp(outs[0].data(), outs[1].data(), outs[0].size() * sizeof(float)), 0);
}

}  // namespace
}  // namespace ax
