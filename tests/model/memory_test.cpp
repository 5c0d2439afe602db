// The per-layer memory description (model/memory.h): validation names the layer,
// allocation follows each layer's shape, sharing layers alias their owner's cache,
// K=V layers store one tensor, and the bytes per token count what is stored.
#include "model/memory.h"

#include <gtest/gtest.h>

namespace ax {
namespace {

LayerMemory Paged(int kv_heads, int head_dim, int window = 0, bool k_eq_v = false, int shares = -1) {
  LayerMemory m;
  m.n_kv_heads = kv_heads;
  m.head_dim = head_dim;
  m.window = window;
  m.k_eq_v = k_eq_v;
  m.shares = shares;
  return m;
}

std::unique_ptr<Backend> Cpu() { return std::move(CreateBackend("cpu", BackendOptions{}).value()); }

TEST(Memory, LayersOfDifferentShapesAndSharing) {
  // Gemma 4 style: sliding layers (2 x 32), a full layer (1 x 64, K=V), then a layer
  // reading the full layer's cache.
  const std::vector<LayerMemory> layers = {Paged(2, 32, 6), Paged(1, 64, 0, true), Paged(2, 32, 6),
                                           Paged(1, 64, 0, true, 1)};
  ASSERT_TRUE(ValidateMemory(layers).ok());
  auto be = Cpu();
  auto kv = AllocateKvCache(*be, layers, {KvGroup{0, 5}}, 4);
  ASSERT_TRUE(kv.ok()) << kv.status().ToString();
  ASSERT_EQ(kv->layers.size(), 4u);
  EXPECT_EQ(kv->layers[0].k.shape, (Shape{5, 2, 4, 32}));  // the CPU backend's head-major layout
  EXPECT_NE(kv->layers[0].k.data, kv->layers[0].v.data);
  EXPECT_EQ(kv->layers[1].k.shape, (Shape{5, 1, 4, 64}));
  EXPECT_EQ(kv->layers[1].k.data, kv->layers[1].v.data);  // K=V: one tensor
  EXPECT_EQ(kv->layers[3].k.data, kv->layers[1].k.data);  // shares layer 1
  EXPECT_NE(kv->layers[2].k.data, kv->layers[0].k.data);
  // Per token: 2*2*32 + 1*64 + 2*2*32 + 0 elements of 4 bytes.
  EXPECT_EQ(KvBytesPerToken(layers, DType::kF32), size_t{(128 + 64 + 128) * 4});
}

LayerMemory Latent(int latent, int rope) {
  LayerMemory m;
  m.kind = LayerMemoryKind::kLatent;
  m.latent_dim = latent;
  m.rope_dim = rope;
  return m;
}

// MLA layers (kLatent): one row of latent + rope values per token in the full group,
// beside ordinary paged layers; bad descriptions name the layer.
TEST(Memory, LatentLayersStoreOneRowPerToken) {
  const std::vector<LayerMemory> layers = {Latent(32, 8), Paged(2, 16, 6), Latent(32, 8)};
  ASSERT_TRUE(ValidateMemory(layers).ok());
  EXPECT_EQ(KvGroupWindows(layers, true), (std::vector<int>{0, 6}));
  EXPECT_EQ(KvGroupWindows({Latent(32, 8)}, true), (std::vector<int>{0}));
  auto be = Cpu();
  auto kv = AllocateKvCache(*be, layers, {KvGroup{0, 5}, KvGroup{6, 3}}, 4);
  ASSERT_TRUE(kv.ok()) << kv.status().ToString();
  EXPECT_EQ(kv->layers[0].k.shape, (Shape{5, 4, 40}));  // [blocks, block_size, latent + rope]
  EXPECT_EQ(kv->layers[0].v.data, kv->layers[0].k.data);
  EXPECT_EQ(kv->layers[0].group, 0);
  EXPECT_EQ(kv->layers[1].group, 1);
  EXPECT_NE(kv->layers[2].k.data, kv->layers[0].k.data);
  EXPECT_EQ(KvBytesPerToken(layers, DType::kBF16), size_t{(40 + 2 * 2 * 16 + 40) * 2});
  EXPECT_EQ(KvGroupBytesPerToken(layers, {0, 6}, DType::kF32), (std::vector<size_t>{80 * 4, 64 * 4}));
  EXPECT_FALSE(HasRecurrentLayers(layers));
  for (LayerMemory bad : {Latent(0, 8), Latent(32, -1)}) {
    Status s = ValidateMemory({Paged(1, 8), bad});
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.message().find("memory layer 1"), std::string::npos) << s.message();
  }
  LayerMemory windowed = Latent(32, 8);
  windowed.window = 4;
  EXPECT_FALSE(ValidateMemory({windowed}).ok());
}

TEST(Memory, WindowedLayersGetTheirOwnGroupAndPool) {
  // Gemma 3 style: window-6 layers around a full layer, one sharing the first.
  const std::vector<LayerMemory> layers = {Paged(2, 32, 6), Paged(1, 64), Paged(2, 32, 6), Paged(2, 32, 6, false, 0)};
  ASSERT_TRUE(ValidateMemory(layers).ok());
  EXPECT_EQ(KvGroupWindows(layers, /*release_windows=*/false), (std::vector<int>{0}));
  const std::vector<int> windows = KvGroupWindows(layers, /*release_windows=*/true);
  ASSERT_EQ(windows, (std::vector<int>{0, 6}));
  EXPECT_EQ(KvGroupOf(windows, 6), 1);
  EXPECT_EQ(KvGroupOf(windows, 0), 0);
  EXPECT_EQ(KvGroupOf(windows, 9), 0);  // no group of its own: the full group keeps its blocks
  EXPECT_EQ(KvGroupOf({6}, 9), -1);
  // Per token: full group 2*1*64, windowed group 2 * (2*2*32) (the sharer stores nothing).
  EXPECT_EQ(KvGroupBytesPerToken(layers, windows, DType::kF32), (std::vector<size_t>{128 * 4, 256 * 4}));
  EXPECT_EQ(KvGroupBytesPerToken(layers, {0}, DType::kF32), (std::vector<size_t>{384 * 4}));

  auto be = Cpu();
  auto kv = AllocateKvCache(*be, layers, {KvGroup{0, 9}, KvGroup{6, 3}}, 4);
  ASSERT_TRUE(kv.ok()) << kv.status().ToString();
  EXPECT_EQ(kv->layers[0].group, 1);
  EXPECT_EQ(kv->layers[0].k.shape, (Shape{3, 2, 4, 32}));  // the windowed pool's 3 blocks
  EXPECT_EQ(kv->layers[1].group, 0);
  EXPECT_EQ(kv->layers[1].k.shape, (Shape{9, 1, 4, 64}));
  EXPECT_EQ(kv->layers[3].group, 1);
  EXPECT_EQ(kv->layers[3].k.data, kv->layers[0].k.data);
  // One full group: every layer in it, windowed ones too.
  auto kept = AllocateKvCache(*be, layers, {KvGroup{0, 9}}, 4);
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->layers[0].group, 0);
  EXPECT_EQ(kept->layers[0].k.shape, (Shape{9, 2, 4, 32}));
}

TEST(Memory, InvalidDescriptionsNameTheLayer) {
  const auto expect_error = [](const std::vector<LayerMemory>& layers, const std::string& part) {
    const Status s = ValidateMemory(layers);
    EXPECT_FALSE(s.ok());
    EXPECT_NE(s.message().find(part), std::string::npos) << s.message();
  };
  expect_error({Paged(2, 32), Paged(0, 32)}, "memory layer 1");
  expect_error({Paged(2, 32), Paged(2, 32, 0, false, 1)}, "expected an earlier layer");
  expect_error({Paged(2, 32), Paged(2, 64, 0, false, 0)}, "another shape");
  expect_error({Paged(2, 32), Paged(2, 32, 0, false, 0), Paged(2, 32, 0, false, 1)}, "memory layer 2");
  auto be = Cpu();
  EXPECT_FALSE(AllocateKvCache(*be, {Paged(2, 32)}, {KvGroup{0, 0}}, 4).ok());
  // A windowed sharer of a full layer would read blocks its owner's group keeps for
  // another window.
  expect_error({Paged(2, 32), Paged(2, 32, 8, false, 0)}, "expected the same window");
  // A layer of window 8 with neither its own group nor a full one.
  const auto no_group = AllocateKvCache(*be, {Paged(2, 32, 8)}, {KvGroup{4, 3}}, 4);
  ASSERT_FALSE(no_group.ok());
  EXPECT_NE(no_group.status().message().find("memory layer 0: no KV group of window 8"), std::string::npos)
      << no_group.status().message();
}

}  // namespace
}  // namespace ax
