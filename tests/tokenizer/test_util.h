// Shared helpers of the tokenizer tests: where the shared tokenizers and the
// committed goldens live, and a per-process cache of loaded tokenizers (Gemma 3
// takes most of a second to load).
#pragma once

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

// Folder of a shared tokenizer by golden name.
inline std::string TokenizerDir(const std::string& name) {
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

inline nlohmann::json LoadGolden(const std::string& name) {
  return nlohmann::json::parse(ReadText(FixturesDir() + "/tokenizer/golden_" + name + ".json"));
}

}  // namespace ax::test
