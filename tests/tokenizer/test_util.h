// Shared helpers of the tokenizer tests: where the shared tokenizers and the
// committed goldens live, and a per-process cache of loaded tokenizers (Gemma 3
// takes most of a second to load).
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tokenizer/tokenizer.h"

namespace ax::test {

inline std::string SharedDir() { return AX_SHARED_DIR; }
inline std::string FixturesDir() { return AX_FIXTURES_DIR; }

// Folder of a tokenizer by golden name: shared ones, or the synthetic ones that
// scripts/tokenizer-goldens/synth.mjs writes under the fixtures.
inline std::string TokenizerDir(const std::string& name) {
  if (name.rfind("synth_", 0) == 0) return FixturesDir() + "/tokenizer/synth/" + name;
  if (name == "stories260K") return SharedDir() + "/models/stories260K";
  return SharedDir() + "/tokenizers/" + name;
}

inline std::string ReadText(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// nullptr when the shared folder is missing (the caller skips).
inline const Tokenizer* LoadShared(const std::string& name) {
  static std::map<std::string, std::unique_ptr<Tokenizer>> cache;
  auto it = cache.find(name);
  if (it != cache.end()) return it->second.get();
  std::string dir = TokenizerDir(name);
  if (!std::filesystem::exists(dir + "/tokenizer.json")) return nullptr;
  auto r = Tokenizer::LoadFromDir(dir);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return nullptr;
  return (cache[name] = std::move(r).value()).get();
}

// The committed goldens, or those of AX_TOKENIZER_GOLDEN_DIR when set (for
// local fuzzing against HF: scripts/tokenizer-goldens/fuzz.mjs).
inline nlohmann::json LoadGolden(const std::string& name) {
  const char* dir = std::getenv("AX_TOKENIZER_GOLDEN_DIR");
  std::string base = dir != nullptr ? std::string(dir) : FixturesDir() + "/tokenizer";
  return nlohmann::json::parse(ReadText(base + "/golden_" + name + ".json"));
}

}  // namespace ax::test
