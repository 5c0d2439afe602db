// ax-engine-bench doctor, tokenize, synth-model and quantize.
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "args.h"
#include "ax/tools.h"
#include "commands.h"

namespace ax::cli {

int RunDoctor(int argc, char** argv) {
  auto parsed = Args::Parse(argc, argv, 2, {"model"}, {"json"});
  if (!parsed.ok()) return UsageError("doctor", parsed.status().message());
  const Args& a = *parsed;
  const SystemReport sys = InspectSystem();
  nlohmann::json j = {
      {"cpu",
       {{"model", sys.cpu_model},
        {"avx2", sys.avx2},
        {"fma", sys.fma},
        {"f16c", sys.f16c},
        {"avx512f", sys.avx512f},
        {"avx512_bf16", sys.avx512_bf16},
        {"threads", sys.threads},
        {"backend", sys.cpu_backend}}},
      {"cuda",
       {{"backend_built", sys.cuda_backend_built},
        {"driver_present", sys.cuda_driver_present},
        {"devices", sys.cuda_devices},
        {"detail", sys.cuda_detail}}},
  };
  bool ok = true;
  std::vector<std::string> problems;
  if (!(sys.avx2 && sys.fma && sys.f16c))
    problems.push_back("CPU lacks AVX2/FMA/F16C: the CPU backend falls back to slow reference kernels");
  if (auto dir = a.Get("model")) {
    auto rep = InspectModel(*dir);
    if (!rep.ok()) {
      ok = false;
      problems.push_back("model: " + rep.status().ToString());
      j["model"] = {{"dir", *dir}, {"ok", false}, {"error", rep.status().ToString()}};
    } else {
      j["model"] = {{"dir", *dir},
                    {"ok", true},
                    {"architecture", rep->architecture},
                    {"family", rep->family},
                    {"dtype", rep->dtype},
                    {"weights", rep->weights},
                    {"parameters", rep->parameters},
                    {"weight_bytes", rep->weight_bytes},
                    {"tensors", rep->num_tensors},
                    {"layers", rep->layers},
                    {"hidden_size", rep->hidden_size},
                    {"vocab_size", rep->vocab_size},
                    {"max_position_embeddings", rep->max_position_embeddings},
                    {"tokenizer", rep->has_tokenizer},
                    {"tokenizer_note", rep->tokenizer_error},
                    {"features", rep->features},
                    {"not_loaded", rep->not_loaded}};
    }
  }
  j["ok"] = ok;
  j["problems"] = problems;
  if (a.Has("json")) {
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("cpu:   %s | avx2 %s fma %s f16c %s avx512f %s avx512_bf16 %s | %d threads\n", sys.cpu_model.c_str(),
                sys.avx2 ? "yes" : "no", sys.fma ? "yes" : "no", sys.f16c ? "yes" : "no", sys.avx512f ? "yes" : "no",
                sys.avx512_bf16 ? "yes" : "no", sys.threads);
    std::printf("       backend %s\n", sys.cpu_backend.c_str());
    std::printf("cuda:  backend %s | %s\n", sys.cuda_backend_built ? "built" : "not built", sys.cuda_detail.c_str());
    if (j.contains("model")) {
      const auto& m = j["model"];
      if (m["ok"].get<bool>()) {
        std::printf("model: %s (%s, %s) %lld params, %.1f MB, %lld layers, vocab %lld | tokenizer: %s\n",
                    m["architecture"].get<std::string>().c_str(), m["family"].get<std::string>().c_str(),
                    m["weights"].get<std::string>().c_str(), m["parameters"].get<long long>(),
                    m["weight_bytes"].get<double>() / 1e6, m["layers"].get<long long>(),
                    m["vocab_size"].get<long long>(),
                    m["tokenizer"].get<bool>() ? "yes" : m["tokenizer_note"].get<std::string>().c_str());
        for (const auto& f : m["features"]) std::printf("  uses: %s\n", f.get<std::string>().c_str());
        for (const auto& f : m["not_loaded"]) std::printf("  not loaded: %s\n", f.get<std::string>().c_str());
      }
    }
    for (const auto& p : problems) std::printf("problem: %s\n", p.c_str());
    std::printf("%s\n", ok ? "ok" : "NOT OK");
  }
  return ok ? 0 : 1;
}

int RunTokenize(int argc, char** argv) {
  auto parsed = Args::Parse(argc, argv, 2, {"model", "text", "file"}, {"json"});
  if (!parsed.ok()) return UsageError("tokenize", parsed.status().message());
  const Args& a = *parsed;
  if (!a.Get("model")) return UsageError("tokenize", "--model DIR (a folder with tokenizer.json) is required");
  if (a.Has("text") == a.Has("file")) return UsageError("tokenize", "give exactly one of --text TEXT or --file F");
  std::string text;
  if (auto f = a.Get("file")) {
    std::ifstream in(*f, std::ios::binary);
    if (!in) return UsageError("tokenize", "--file '" + *f + "': cannot open");
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  } else {
    text = *a.Get("text");
  }
  auto r = TokenizeWithDir(*a.Get("model"), text);
  if (!r.ok()) {
    std::fprintf(stderr, "ax-engine-bench tokenize: %s\n", r.status().ToString().c_str());
    return 1;
  }
  if (a.Has("json")) {
    nlohmann::json j = {{"ids", r->ids}, {"pieces", r->pieces}};
    std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    for (size_t i = 0; i < r->ids.size(); ++i) std::printf("%s%d", i ? " " : "", r->ids[i]);
    std::printf("\n");
  }
  return 0;
}

int RunSynthModel(int argc, char** argv) {
  auto parsed = Args::Parse(argc, argv, 2, {"shape", "dtype", "seed", "out", "tokenizer"}, {});
  if (!parsed.ok()) return UsageError("synth-model", parsed.status().message());
  const Args& a = *parsed;
  SynthModelOptions o;
  if (!a.Get("shape") || !a.Get("out")) {
    std::string shapes;
    for (const auto& s : SynthModelShapes()) shapes += (shapes.empty() ? "" : ", ") + s;
    return UsageError("synth-model", "--shape NAME and --out DIR are required (shapes: " + shapes + ")");
  }
  o.shape = *a.Get("shape");
  o.out_dir = *a.Get("out");
  o.dtype = a.GetOr("dtype", "bf16");
  o.tokenizer_dir = a.GetOr("tokenizer", "");
  auto seed = a.Int("seed", 0);
  if (!seed.ok()) return UsageError("synth-model", seed.status().message());
  o.seed = static_cast<uint64_t>(*seed);
  Status s = SynthModel(o);
  if (!s.ok()) {
    std::fprintf(stderr, "ax-engine-bench synth-model: %s\n", s.ToString().c_str());
    return 1;
  }
  std::printf("wrote %s (%s, %s, seed %llu)\n", o.out_dir.c_str(), o.shape.c_str(), o.dtype.c_str(),
              static_cast<unsigned long long>(o.seed));
  return 0;
}

int RunQuantize(int argc, char** argv) {
  auto parsed = Args::Parse(argc, argv, 2, {"bits", "group-size", "mode", "keep", "threads"}, {}, 2);
  if (!parsed.ok()) return UsageError("quantize", parsed.status().message());
  const Args& a = *parsed;
  if (a.positional().size() != 2) return UsageError("quantize", "expected IN_DIR and OUT_DIR");
  if (a.GetOr("mode", "affine") != "affine")
    return UsageError("quantize", "--mode '" + *a.Get("mode") + "': expected affine");
  QuantizeModelOptions o;
  o.in_dir = a.positional()[0];
  o.out_dir = a.positional()[1];
  auto bits = a.Int("bits", 4);
  auto group = a.Int("group-size", 64);
  auto threads = a.Int("threads", 0);
  for (const auto* r : {&bits, &group, &threads})
    if (!r->ok()) return UsageError("quantize", r->status().message());
  o.bits = static_cast<int>(*bits);
  o.group_size = static_cast<int>(*group);
  o.threads = static_cast<int>(*threads);
  o.keep = a.GetOr("keep", "");
  Status s = QuantizeModel(o);
  if (!s.ok()) {
    std::fprintf(stderr, "ax-engine-bench quantize: %s\n", s.ToString().c_str());
    return 1;
  }
  std::printf("wrote %s (affine %d-bit, group %d)\n", o.out_dir.c_str(), o.bits, o.group_size);
  return 0;
}

}  // namespace ax::cli
