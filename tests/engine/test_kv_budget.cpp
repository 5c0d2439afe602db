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

// A hybrid's recurrent state (tiny-qwen3_5: 4 GatedDelta layers of 128 conv channels x 3
// inputs and 4 heads of 16 x 16, 22,528 bytes a slot; 16 slots with 4 draft checkpoints
// each: 1,802,240 bytes) comes out of the cap first: 2 MiB leaves 294,912 bytes, 36
// blocks of 16 tokens at 512 bytes a token (2 full layers of 2 kv heads x 16, f32 K
// and V). A cap the state does not fit is refused, naming the fields to change.
TEST(KvBudget, RecurrentStateComesOutOfTheCap) {
  EngineConfig cfg;
  cfg.model_dir = std::string(AX_FIXTURES_DIR) + "/models/tiny-qwen3_5";
  cfg.backend = "cpu";
  cfg.threads = 1;
  cfg.precision = "f32";
  cfg.kv_cache_mb = 2;
  cfg.kv_block_size = 16;
  cfg.max_seqs = 16;
  cfg.max_draft_tokens = 4;
  cfg.max_batch_tokens = 128;
  cfg.ctx_size = 256;
  auto engine = Engine::Create(cfg);
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  EXPECT_EQ((*engine)->Stats().blocks_total, 36);
  cfg.kv_cache_mb = 1;
  auto refused = Engine::Create(cfg);
  ASSERT_FALSE(refused.ok());
  for (const char* part : {"kv_cache_mb 1 MiB", "GatedDelta", "max_seqs 16", "max_draft_tokens"})
    EXPECT_NE(refused.status().message().find(part), std::string::npos) << refused.status().message();
  // No cap: the pools as for any model (16 contexts of 256 tokens), the state beside them.
  cfg.kv_cache_mb = 0;
  auto uncapped = Engine::Create(cfg);
  ASSERT_TRUE(uncapped.ok()) << uncapped.status().ToString();
  EXPECT_EQ((*uncapped)->Stats().blocks_total, 16 * 256 / 16);
}

}  // namespace
}  // namespace ax
