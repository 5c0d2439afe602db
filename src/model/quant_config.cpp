#include "model/quant_config.h"

#include "model/config_fields.h"
#include "model/json_util.h"
#include "tensor/quant.h"

namespace ax {
namespace {

// bits and group_size of one object (the section itself or a module override).
Status ParseFormat(const ConfigFields& f, int* bits, int* group_size) {
  int64_t b = *bits, g = *group_size;
  AX_RETURN_IF_ERROR(f.Int("bits", &b, *bits == 0, 2, 8));
  AX_RETURN_IF_ERROR(f.Int("group_size", &g, *group_size == 0, 32, 128));
  if (!IsAffineBits(static_cast<int>(b))) return f.Invalid("bits", "2, 3, 4, 5, 6 or 8", f.Find("bits"));
  if (!IsAffineGroupSize(static_cast<int>(g))) return f.Invalid("group_size", "32, 64 or 128", f.Find("group_size"));
  *bits = static_cast<int>(b);
  *group_size = static_cast<int>(g);
  return Status::Ok();
}

}  // namespace

std::string QuantModuleOf(const std::string& tensor_name) {
  return tensor_name.ends_with(".weight") ? tensor_name.substr(0, tensor_name.size() - 7) : tensor_name;
}

ModuleQuant QuantizationConfig::For(const std::string& module) const {
  auto it = modules.find(module);
  if (it != modules.end()) return it->second;
  return ModuleQuant{true, bits, group_size};
}

std::string QuantizationConfig::Describe() const {
  if (!quantized()) return "";
  bool mixed = false;
  for (const auto& [name, m] : modules) mixed |= !m.quantized || m.bits != bits || m.group_size != group_size;
  return "affine " + std::to_string(bits) + "-bit g" + std::to_string(group_size) + (mixed ? " mixed" : "");
}

Status ParseQuantizationConfig(const void* root_ptr, const std::string& path, QuantizationConfig* out) {
  const Json& root = *static_cast<const Json*>(root_ptr);
  const ConfigFields top(root, path);
  const char* key = top.Find("quantization") ? "quantization" : "quantization_config";
  const Json* section = top.Find(key);
  if (section == nullptr) return Status::Ok();
  if (!section->is_object()) return top.Invalid(key, "an object", section);
  const ConfigFields f(*section, path, std::string(key) + ".");
  std::string method = "mlx", mode = "affine";
  AX_RETURN_IF_ERROR(f.String("quant_method", &method));
  AX_RETURN_IF_ERROR(f.String("mode", &mode));
  if (method != "mlx" && method != "affine")
    return f.Unsupported("quant_method", "'" + method + "' is not supported (supported: MLX affine checkpoints)");
  if (mode != "affine")
    return f.Unsupported("mode", "'" + mode + "' is not supported (supported: affine)");
  QuantizationConfig q;
  AX_RETURN_IF_ERROR(ParseFormat(f, &q.bits, &q.group_size));
  for (const auto& [name, value] : section->items()) {
    if (value.is_boolean()) {
      q.modules[name] = ModuleQuant{value.get<bool>(), q.bits, q.group_size};
    } else if (value.is_object()) {
      const ConfigFields m(value, path, std::string(key) + "." + name + ".");
      ModuleQuant mq{true, q.bits, q.group_size};
      AX_RETURN_IF_ERROR(ParseFormat(m, &mq.bits, &mq.group_size));
      q.modules[name] = mq;
    }
  }
  *out = std::move(q);
  return Status::Ok();
}

}  // namespace ax
