// libFuzzer target: tokenizer.json text. Loading returns a tokenizer or an error that
// names the source; a tokenizer that loads encodes and decodes a fixed text without
// crashing, and every id it produces is inside its vocabulary.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "tokenizer/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string json(reinterpret_cast<const char*>(data), size);
  auto tok = ax::Tokenizer::LoadFromJson(json, "fuzz/tokenizer.json");
  if (!tok.ok()) {
    if (tok.status().message().find("fuzz/tokenizer.json") == std::string::npos) std::abort();
    return 0;
  }
  const ax::Tokenizer& t = **tok;
  for (const char* text : {"Hello, world! the thing", "naïve café 日本語 🙂\n\t  x", ""}) {
    for (bool special : {false, true}) {
      const std::vector<int32_t> ids = t.Encode(text, special);
      for (int32_t id : ids)
        if (id < 0 || id >= t.vocab_size()) std::abort();
      (void)t.Decode(ids, false);
      (void)t.Decode(ids, true);
    }
  }
  return 0;
}
