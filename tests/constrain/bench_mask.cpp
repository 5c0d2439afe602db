// Mask cost on the Qwen3 vocabulary: for JSON schemas of growing size, the compile
// time, the first-use token-cache cost, and the per-token FillMask cost (median,
// p99) along random constrained walks. cold_ms is the whole first pass (the walk
// driver included), cold_mask_ms the FillMask time in it. A timing tool, not a test.
//   bench_mask [walks=20] [tokens_per_walk=200]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>

#include <nlohmann/json.hpp>

#include "constrain/grammar.h"
#include "constrain/matcher.h"
#include "constrain/token_cache.h"
#include "constrain/vocab.h"
#include "tokenizer/tokenizer.h"

namespace {

using Clock = std::chrono::steady_clock;
double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

const char* const kSchemas[][2] = {
    {"small", R"({"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer",
        "minimum": 1, "maximum": 14}}, "required": ["city", "days"]})"},
    {"tool", R"({"type": "object", "properties": {"query": {"type": "string", "maxLength": 200}, "top_k": {"type": "integer",
        "minimum": 1, "maximum": 100}, "filters": {"type": "object", "properties": {"lang": {"enum": ["en", "de", "fr"]},
        "after": {"type": "string", "format": "date"}, "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 8}},
        "additionalProperties": false}, "safe": {"type": "boolean"}}, "required": ["query"]})"},
    {"large", R"({"$defs": {"addr": {"type": "object", "properties": {"street": {"type": "string"}, "zip": {"type": "string",
        "pattern": "^[0-9]{5}$"}, "country": {"type": "string", "minLength": 2, "maxLength": 2}}, "required": ["street", "zip"]},
        "person": {"type": "object", "properties": {"name": {"type": "string"}, "email": {"type": "string", "format": "email"},
        "born": {"type": "string", "format": "date-time"}, "id": {"type": "string", "format": "uuid"},
        "home": {"$ref": "#/$defs/addr"}, "work": {"anyOf": [{"$ref": "#/$defs/addr"}, {"type": "null"}]},
        "score": {"type": "number", "minimum": 0, "maximum": 100}, "friends": {"type": "array",
        "items": {"$ref": "#/$defs/person"}, "maxItems": 3}}, "required": ["name", "id", "home"]}},
        "type": "object", "properties": {"people": {"type": "array", "items": {"$ref": "#/$defs/person"}, "minItems": 1},
        "meta": {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean", "null"]}}},
        "required": ["people"]})"},
};

double Pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  using namespace ax::constrain;
  int walks = argc > 1 ? std::atoi(argv[1]) : 20;
  int tokens = argc > 2 ? std::atoi(argv[2]) : 200;
  auto tok = ax::Tokenizer::LoadFromDir(std::string(AX_SHARED_DIR) + "/tokenizers/qwen3");
  if (!tok.ok()) {
    std::fprintf(stderr, "%s\n", tok.status().ToString().c_str());
    return 1;
  }
  auto t0 = Clock::now();
  auto vocab = TokenVocab::Build(*tok.value());
  std::printf("vocab: %d tokens, built in %.1f ms\n", vocab->size(), Ms(Clock::now() - t0));
  int32_t eos = tok.value()->eos_id().value_or(-1);
  std::printf("%-6s %10s %10s %12s %12s %10s %10s %10s %10s %8s\n", "schema", "compile_ms", "cold_ms", "cold_mask_ms",
              "cache_keys", "cold_p99_us", "p50_us", "p99_us", "max_us", "tokens");
  for (const auto& [name, text] : kSchemas) {
    nlohmann::json schema = nlohmann::json::parse(text);
    t0 = Clock::now();
    auto g = CompileJsonSchema(schema);
    double compile_ms = Ms(Clock::now() - t0);
    if (!g.ok()) {
      std::fprintf(stderr, "%s: %s\n", name, g.status().ToString().c_str());
      return 1;
    }
    // Pass 0 fills the token cache (cold), pass 1 repeats the same walks (warm).
    std::vector<double> us, cold;
    double cold_ms = 0;
    TokenBitset mask(vocab->size());
    for (int pass = 0; pass < 2; ++pass) {
    std::mt19937 rng(42);
    us.clear();
    auto p0 = Clock::now();
    for (int w = 0; w < walks; ++w) {
      Matcher m(g.value(), vocab, eos);
      for (int k = 0; k < tokens; ++k) {
        auto s = Clock::now();
        m.FillMask(&mask);
        us.push_back(Ms(Clock::now() - s) * 1000.0);
        std::vector<int32_t> allowed;
        for (int32_t t = 0; t < mask.size(); ++t) {
          if (mask.Test(t) && t != eos) allowed.push_back(t);
        }
        if (allowed.empty() || (m.IsComplete() && rng() % 4 == 0)) break;
        m.Accept(allowed[std::uniform_int_distribution<size_t>(0, allowed.size() - 1)(rng)]);
      }
    }
    if (pass == 0) {
      cold_ms = Ms(Clock::now() - p0);
      cold = us;
    }
    }
    int32_t entries = g.value()->CacheFor(vocab)->num_entries();
    double cold_mask_ms = 0;
    for (double c : cold) cold_mask_ms += c / 1000.0;
    std::printf("%-6s %10.2f %10.1f %12.1f %12d %10.1f %10.1f %10.1f %10.1f %8zu\n", name, compile_ms, cold_ms,
                cold_mask_ms, entries,
                Pct(cold, 0.99), Pct(us, 0.5), Pct(us, 0.99), Pct(us, 1.0), us.size());
  }
  return 0;
}
