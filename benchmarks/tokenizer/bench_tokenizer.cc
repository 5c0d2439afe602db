// Tokenizer throughput on one core: Encode (bytes of UTF-8 input per second)
// and Decode of English text. The text is /usr/share/common-licenses/GPL-3
// (present on every Debian), else the repo's docs, repeated to ~1 MB.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>

#include "tokenizer/tokenizer.h"

namespace {

std::string EnglishText() {
  for (const char* path : {"/usr/share/common-licenses/GPL-3", AX_SOURCE_DIR "/docs/tokenizer.md"}) {
    std::ifstream f(path);
    if (!f) continue;
    std::ostringstream ss;
    ss << f.rdbuf();
    std::string one = ss.str();
    std::string text;
    while (!one.empty() && text.size() < (1u << 20)) text += one;
    return text;
  }
  return std::string(1 << 20, 'a');
}

const ax::Tokenizer* Load(const std::string& name) {
  static std::map<std::string, std::unique_ptr<ax::Tokenizer>> cache;
  auto it = cache.find(name);
  if (it != cache.end()) return it->second.get();
  std::string dir = std::string(AX_SHARED_DIR) + (name == "stories260K" ? "/models/" : "/tokenizers/") + name;
  auto r = ax::Tokenizer::LoadFromDir(dir);
  if (!r.ok()) {
    std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
    return nullptr;
  }
  return (cache[name] = std::move(r).value()).get();
}

void BM_Encode(benchmark::State& state, const std::string& name) {
  const ax::Tokenizer* tok = Load(name);
  if (tok == nullptr) {
    state.SkipWithError("tokenizer not found under AX_SHARED_DIR");
    return;
  }
  static const std::string text = EnglishText();
  size_t n_tokens = 0;
  for (auto _ : state) {
    auto ids = tok->Encode(text, false);
    n_tokens = ids.size();
    benchmark::DoNotOptimize(ids.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["tokens"] = static_cast<double>(n_tokens);
  state.counters["MB/s"] = benchmark::Counter(static_cast<double>(state.iterations() * text.size()) / 1e6,
                                              benchmark::Counter::kIsRate);
}

void BM_Decode(benchmark::State& state, const std::string& name) {
  const ax::Tokenizer* tok = Load(name);
  if (tok == nullptr) {
    state.SkipWithError("tokenizer not found under AX_SHARED_DIR");
    return;
  }
  static const std::string text = EnglishText();
  auto ids = tok->Encode(text, false);
  for (auto _ : state) {
    std::string s = tok->Decode(ids, false);
    benchmark::DoNotOptimize(s.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * ids.size()));
}

BENCHMARK_CAPTURE(BM_Encode, qwen3, std::string("qwen3"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Encode, gemma3, std::string("gemma3"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Encode, stories260K, std::string("stories260K"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Decode, qwen3, std::string("qwen3"))->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
