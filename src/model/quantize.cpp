#include "model/quantize.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <regex>

#include "base/thread_pool.h"
#include "model/json_util.h"
#include "model/quant_config.h"
#include "model/safetensors.h"
#include "tensor/quant.h"

namespace ax {
namespace fs = std::filesystem;
namespace {

constexpr uint64_t kShardBytes = uint64_t{4} << 30;  // output shards of at most ~4 GiB

struct Plan {
  std::string name;    // the source tensor
  std::string module;  // "<module>" of "<module>.weight"
  int bits = 0;        // 0: copied as it is
  bool ruled = false;  // a --keep rule chose bits
};

bool IsFloat(DType dt) { return dt == DType::kF32 || dt == DType::kF16 || dt == DType::kBF16; }

// What becomes of a tensor: its bits (0: copied), by the quantizable test and the rules.
Plan PlanFor(const std::string& name, const TensorEntry& e, const QuantizeOptions& o,
             const std::vector<std::regex>& patterns) {
  Plan p{name, QuantModuleOf(name)};
  const bool matrix = e.shape.ndim == 2 && name.ends_with(".weight");
  const bool experts = e.shape.ndim == 3 && (name.ends_with(".weight") || name.find(".experts.") != std::string::npos);
  if (!IsFloat(e.dtype) || !(matrix || experts) || e.shape[e.shape.ndim - 1] % o.group_size != 0) return p;
  p.bits = o.bits;
  for (size_t i = 0; i < o.rules.size(); ++i) {
    if (std::regex_search(p.module, patterns[i])) {
      p.bits = o.rules[i].bits;
      p.ruled = true;
      break;
    }
  }
  return p;
}

// Quantizes one tensor [..., rows, cols] into codes / scales / biases tensors.
std::vector<TensorToWrite> QuantizeTensor(const Plan& p, const TensorEntry& e, int group, ThreadPool& pool) {
  const int64_t cols = e.shape[e.shape.ndim - 1], rows = e.shape.numel() / cols, groups = cols / group;
  Shape codes_shape = e.shape, side_shape = e.shape;
  codes_shape.dims[e.shape.ndim - 1] = cols * p.bits / 32;
  side_shape.dims[e.shape.ndim - 1] = groups;
  TensorToWrite codes{p.name, DType::kU32, codes_shape, {}};  // "<module>.weight", or a stack's own name
  TensorToWrite scales{p.module + ".scales", e.dtype, side_shape, {}};
  TensorToWrite biases{p.module + ".biases", e.dtype, side_shape, {}};
  const int64_t row_bytes = AffineRowBytes(cols, p.bits);
  codes.bytes.assign(static_cast<size_t>(rows * row_bytes), 0);
  const size_t esize = DTypeSize(e.dtype);
  scales.bytes.resize(static_cast<size_t>(rows * groups) * esize);
  biases.bytes.resize(scales.bytes.size());
  pool.ParallelFor(rows, 16, [&](int64_t begin, int64_t end) {
    std::vector<float> w(static_cast<size_t>(cols)), s(static_cast<size_t>(groups)), b(s.size());
    for (int64_t r = begin; r < end; ++r) {
      WeightRowToF32(e.data, e.dtype, {}, r, cols, w.data());
      QuantizeAffineRow(w.data(), cols, p.bits, group, codes.bytes.data() + r * row_bytes, s.data(), b.data());
      for (int64_t g = 0; g < groups; ++g) {
        const size_t at = static_cast<size_t>(r * groups + g) * esize;
        for (auto [v, dst] : {std::pair{s[g], &scales.bytes}, std::pair{b[g], &biases.bytes}}) {
          if (e.dtype == DType::kF32) {
            std::memcpy(dst->data() + at, &v, 4);
          } else {
            const uint16_t h = e.dtype == DType::kBF16 ? F32ToBf16(v) : F32ToF16(v);
            std::memcpy(dst->data() + at, &h, 2);
          }
        }
      }
    }
  });
  std::vector<TensorToWrite> out;
  out.push_back(std::move(codes));
  out.push_back(std::move(scales));
  out.push_back(std::move(biases));
  return out;
}

TensorToWrite CopyTensor(const std::string& name, const TensorEntry& e) {
  const auto* p = static_cast<const uint8_t*>(e.data);
  return TensorToWrite{name, e.dtype, e.shape, std::vector<uint8_t>(p, p + e.nbytes)};
}

uint64_t OutputBytes(const Plan& p, const TensorEntry& e, int group) {
  if (p.bits == 0) return e.nbytes;
  const int64_t cols = e.shape[e.shape.ndim - 1], rows = e.shape.numel() / cols;
  return static_cast<uint64_t>(rows * AffineRowBytes(cols, p.bits) + 2 * rows * (cols / group) * DTypeSize(e.dtype));
}

// config.json with the quantization section as mlx_lm writes it.
Result<std::string> QuantizedConfig(const std::string& in_dir, const QuantizeOptions& o, const std::vector<Plan>& plans) {
  const std::string path = (fs::path(in_dir) / "config.json").string();
  AX_ASSIGN_OR_RETURN(Json config, ReadJsonFile(path));
  if (!config.is_object()) return InvalidArgument(path + ": expected a JSON object");
  if (config.contains("quantization") || config.contains("quantization_config"))
    return InvalidArgument(path + ": the checkpoint is already quantized (it has a quantization section)");
  Json q = {{"group_size", o.group_size}, {"bits", o.bits}, {"mode", "affine"}};
  for (const Plan& p : plans) {
    if (p.ruled && p.bits != o.bits)
      q[p.module] = p.bits == 0 ? Json(false) : Json{{"group_size", o.group_size}, {"bits", p.bits}};
  }
  config["quantization"] = q;
  config["quantization_config"] = q;
  return config.dump(2) + "\n";
}

}  // namespace

Result<std::vector<QuantizeRule>> ParseQuantizeRules(const std::string& spec) {
  std::vector<QuantizeRule> rules;
  size_t at = 0;
  while (at < spec.size()) {
    const size_t comma = spec.find(',', at);
    const std::string item = spec.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    at = comma == std::string::npos ? spec.size() : comma + 1;
    const size_t eq = item.rfind('=');
    const std::string what = eq == std::string::npos ? "" : item.substr(eq + 1);
    QuantizeRule r{eq == std::string::npos ? "" : item.substr(0, eq), 0};
    if (what != "float") r.bits = what.size() == 1 && what[0] >= '2' && what[0] <= '8' ? what[0] - '0' : -1;
    if (r.pattern.empty() || (r.bits != 0 && !IsAffineBits(r.bits)))
      return InvalidArgument("--keep '" + item + "': expected REGEX=BITS (2, 3, 4, 5, 6, 8) or REGEX=float");
    try {
      std::regex check(r.pattern);
    } catch (const std::regex_error& e) {
      return InvalidArgument("--keep '" + item + "': bad regular expression: " + e.what());
    }
    rules.push_back(r);
  }
  return rules;
}

Status QuantizeCheckpoint(const QuantizeOptions& o) {
  if (!IsAffineBits(o.bits)) return InvalidArgument("--bits " + std::to_string(o.bits) + ": expected 2, 3, 4, 5, 6 or 8");
  if (!IsAffineGroupSize(o.group_size))
    return InvalidArgument("--group-size " + std::to_string(o.group_size) + ": expected 32, 64 or 128");
  std::error_code ec;
  if (fs::exists(o.out_dir, ec) && fs::equivalent(o.in_dir, o.out_dir, ec))
    return InvalidArgument(o.out_dir + ": the output directory is the input directory");
  AX_ASSIGN_OR_RETURN(WeightStore store, WeightStore::OpenDir(o.in_dir));
  std::vector<std::regex> patterns;
  for (const QuantizeRule& r : o.rules) patterns.emplace_back(r.pattern);
  std::vector<Plan> plans;
  int quantized = 0;
  for (const auto& [name, e] : store.tensors()) {
    if (name.ends_with(".scales") || name.ends_with(".biases") || e.dtype == DType::kU32)
      return InvalidArgument(name + ": the checkpoint is already quantized (in " + e.file + ")");
    plans.push_back(PlanFor(name, e, o, patterns));
    quantized += plans.back().bits > 0;
  }
  AX_ASSIGN_OR_RETURN(std::string config, QuantizedConfig(o.in_dir, o, plans));
  if (quantized == 0) return InvalidArgument(o.in_dir + ": no tensor to quantize (none is a matrix whose rows are a "
                                             "multiple of the group size " + std::to_string(o.group_size) + ")");
  fs::create_directories(o.out_dir, ec);
  if (ec) return InvalidArgument(o.out_dir + ": cannot create: " + ec.message());
  AX_RETURN_IF_ERROR(RemoveSafetensorsFiles(o.out_dir));

  // Shards in source order, each at most kShardBytes (one larger tensor is one shard).
  std::vector<std::vector<size_t>> shards(1);
  uint64_t used = 0, total = 0;
  for (size_t i = 0; i < plans.size(); ++i) {
    const uint64_t n = OutputBytes(plans[i], *store.Find(plans[i].name), o.group_size);
    if (used > 0 && used + n > kShardBytes) {
      shards.emplace_back();
      used = 0;
    }
    shards.back().push_back(i);
    used += n;
    total += n;
  }
  ThreadPool pool(o.threads > 0 ? o.threads : ThreadPool::HardwareThreads());
  Json weight_map = Json::object();
  for (size_t si = 0; si < shards.size(); ++si) {
    std::vector<TensorToWrite> tensors;
    for (size_t i : shards[si]) {
      const TensorEntry& e = *store.Find(plans[i].name);
      if (plans[i].bits == 0) {
        tensors.push_back(CopyTensor(plans[i].name, e));
      } else {
        for (TensorToWrite& t : QuantizeTensor(plans[i], e, o.group_size, pool)) tensors.push_back(std::move(t));
      }
    }
    const std::string file = ShardFileName(si, shards.size());
    for (const TensorToWrite& t : tensors) weight_map[t.name] = file;
    AX_RETURN_IF_ERROR(WriteSafetensors((fs::path(o.out_dir) / file).string(), tensors, {{"format", "mlx"}}));
  }
  if (shards.size() > 1) {
    const Json index = {{"metadata", {{"total_size", total}}}, {"weight_map", weight_map}};
    AX_RETURN_IF_ERROR(
        WriteStringToFile((fs::path(o.out_dir) / "model.safetensors.index.json").string(), index.dump(2) + "\n"));
  }
  AX_RETURN_IF_ERROR(WriteStringToFile((fs::path(o.out_dir) / "config.json").string(), config));
  // Everything else (tokenizer, chat template, generation config, README) as it is.
  for (const fs::directory_entry& f : fs::directory_iterator(o.in_dir, ec)) {
    const std::string n = f.path().filename().string();
    if (!f.is_regular_file() || n == "config.json" || n.ends_with(".safetensors") ||
        n == "model.safetensors.index.json")
      continue;
    fs::copy_file(f.path(), fs::path(o.out_dir) / n, fs::copy_options::overwrite_existing, ec);
    if (ec) return InvalidArgument(f.path().string() + ": cannot copy: " + ec.message());
  }
  if (ec) return InvalidArgument(o.in_dir + ": cannot list: " + ec.message());
  return Status::Ok();
}

}  // namespace ax
