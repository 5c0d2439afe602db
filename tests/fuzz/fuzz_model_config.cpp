// libFuzzer target: config.json and generation_config.json text. Parsing returns a
// config or an error that names the file; it never crashes, and a config that parses
// passes the structural checks or is rejected by them with a message.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "model/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto cfg = ax::ParseModelConfig(text, "fuzz/config.json");
  if (!cfg.ok() && cfg.status().message().find("fuzz/config.json") == std::string::npos) std::abort();
  auto gen = ax::ParseGenerationConfig(text, "fuzz/generation_config.json");
  if (!gen.ok() && gen.status().message().empty()) std::abort();
  return 0;
}
