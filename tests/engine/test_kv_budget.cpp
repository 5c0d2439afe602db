// The KV memory budget (EngineConfig::kv_cache_mb) over every KV group: on a model with
// sliding-window layers the bytes the windowed layers no longer take become blocks of
// the full layers, i.e. more (or longer) sequences in the same memory.
//
// Synth Gemma 3 (tiny-gemma3): 6 layers of 2 kv heads x 32, layer 5 full, the others
// window 8; f32 KV (--precision f32; the CPU backend's default, bf16, halves the bytes
// per token), so a token takes 512 bytes in the full layer
// and 2560 in the windowed ones. Block size 16, 16 sequences, 512-token steps: the
// window pool is 16 * (ceil(7 / 16) + 2) + ceil(512 / 16) = 80 blocks of 40 KiB, and
// 8 MiB leaves (8192 - 80 * 40) / 8 = 624 full blocks (9984 tokens of context), where
// keeping every layer's context fits 8192 / 48 = 170 blocks (2720 tokens).
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "ax/engine.h"
#include "model/synth.h"

namespace ax {
namespace {

TEST(KvBudget, WindowedLayersTurnIntoMoreFullBlocks) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("ax_kv_budget_tiny_gemma3_" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  SynthOptions o;
  o.shape = "tiny-gemma3";
  o.seed = 4;
  o.out_dir = dir.string();
  ASSERT_TRUE(WriteSynthModel(o, nullptr).ok());
  EngineConfig cfg;
  cfg.model_dir = dir.string();
  cfg.backend = "cpu";
  cfg.threads = 1;
  cfg.precision = "f32";
  cfg.kv_cache_mb = 8;
  cfg.kv_block_size = 16;
  cfg.max_seqs = 16;
  cfg.max_batch_tokens = 512;
  cfg.ctx_size = 512;
  auto engine = Engine::Create(cfg);
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  const EngineStats s = (*engine)->Stats();
  EXPECT_EQ(s.window_blocks_total, 80);
  EXPECT_EQ(s.blocks_total - s.window_blocks_total, 624);
  // Without a cap: max_seqs full contexts (16 x 512 tokens), the window pool beside them.
  cfg.kv_cache_mb = 0;
  auto uncapped = Engine::Create(cfg);
  ASSERT_TRUE(uncapped.ok()) << uncapped.status().ToString();
  EXPECT_EQ((*uncapped)->Stats().blocks_total - (*uncapped)->Stats().window_blocks_total, 16 * 512 / 16);
  EXPECT_EQ((*uncapped)->Stats().window_blocks_total, 80);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ax
