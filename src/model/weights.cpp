#include "model/weights.h"

#include <algorithm>
#include <utility>

#include "tensor/dtype.h"

namespace ax {
namespace {

// Element i of a host tensor of f32, f16 or bf16, as f32.
float LoadF32(const TensorView& v, int64_t i) {
  switch (v.dtype) {
    case DType::kF32: return static_cast<const float*>(v.data)[i];
    case DType::kBF16: return Bf16ToF32(static_cast<const uint16_t*>(v.data)[i]);
    case DType::kF16: return F16ToF32(static_cast<const uint16_t*>(v.data)[i]);
    case DType::kI32:
    case DType::kU32:
    case DType::kAffine: break;  // WeightStore::Get admits only float tensors here
  }
  return static_cast<float>(static_cast<const int32_t*>(v.data)[i]);
}

Shape StackShape(int64_t count, int64_t rows, int64_t cols) {
  return count > 1 ? Shape{count, rows, cols} : Shape{rows, cols};
}

// Bytes a host weight occupies (a kAffine one's codes, scales and biases).
size_t WeightBytes(const TensorView& host) {
  if (host.dtype != DType::kAffine) return host.nbytes();
  return host.nbytes() + 2 * AffineSideBytes(host.quant, host.shape[0], host.shape[1]);
}

// Rows [first, first + n) of a host matrix [rows, cols], float or kAffine.
TensorView HostRows(const TensorView& m, int64_t first, int64_t n) {
  const int64_t cols = m.shape[1];
  TensorView v = m;
  v.shape = Shape{n, cols};
  if (m.dtype != DType::kAffine) {
    v.data = static_cast<char*>(m.data) + first * cols * static_cast<int64_t>(DTypeSize(m.dtype));
    return v;
  }
  const size_t side = AffineSideBytes(m.quant, first, cols);
  v.data = static_cast<char*>(m.data) + first * AffineRowBytes(cols, m.quant.bits);
  v.quant.scales = static_cast<const char*>(m.quant.scales) + side;
  v.quant.biases = static_cast<const char*>(m.quant.biases) + side;
  return v;
}

// An upload that fails (the backend is out of memory) names the tensor.
Result<TensorView> Named(Result<TensorView> r, const std::string& name) {
  if (!r.ok()) return r.status().WithPrefix(name);
  return r;
}

}  // namespace

Result<TensorView> WeightLoader::HostAffine(const std::string& name, const std::string& module, int64_t count,
                                            int64_t rows, int64_t cols) {
  const std::string scales_name = module + ".scales", biases_name = module + ".biases";
  if (quant_ == nullptr || !quant_->quantized())
    return InvalidArgument(scales_name + ": stored, but config.json has no quantization section (bits, group_size)");
  const ModuleQuant mq = quant_->For(module);
  if (!mq.quantized)
    return InvalidArgument(scales_name + ": stored, but config.json's quantization." + module + " is false");
  if (cols % mq.group_size != 0)
    return InvalidArgument(name + ": " + std::to_string(cols) + " input columns are not a multiple of the group size " +
                           std::to_string(mq.group_size));
  AX_ASSIGN_OR_RETURN(const TensorEntry* codes,
                      store_.Get(name, StackShape(count, rows, cols * mq.bits / 32), /*packed=*/true));
  const Shape side = StackShape(count, rows, cols / mq.group_size);
  AX_ASSIGN_OR_RETURN(const TensorEntry* scales, store_.Get(scales_name, side));
  AX_ASSIGN_OR_RETURN(const TensorEntry* biases, store_.Get(biases_name, side));
  if (biases->dtype != scales->dtype)
    return InvalidArgument(biases_name + ": dtype " + DTypeName(biases->dtype) + ", expected " +
                           DTypeName(scales->dtype) + " like " + scales_name);
  for (const std::string& n : {name, scales_name, biases_name}) used_.insert(n);
  TensorView host{const_cast<void*>(codes->data), DType::kAffine, Shape{count * rows, cols}, Device::kCpu};
  host.quant = AffineQuant{mq.bits, mq.group_size, scales->dtype, scales->data, biases->data};
  return host;
}

Result<TensorView> WeightLoader::HostMatrix(const std::string& name, int64_t count, int64_t rows, int64_t cols) {
  const std::string module = QuantModuleOf(name);
  if (store_.Find(module + ".scales") != nullptr) return HostAffine(name, module, count, rows, cols);
  AX_ASSIGN_OR_RETURN(const TensorEntry* e, store_.Get(name, StackShape(count, rows, cols)));
  used_.insert(name);
  TensorView host = e->view();
  host.shape = Shape{count * rows, cols};
  return host;
}

Result<TensorView> WeightLoader::Matrix(const std::string& name, int64_t rows, int64_t cols) {
  return Stacked(name, 1, rows, cols);
}

Result<TensorView> WeightLoader::Stacked(const std::string& name, int64_t count, int64_t rows, int64_t cols) {
  AX_ASSIGN_OR_RETURN(TensorView host, HostMatrix(name, count, rows, cols));
  if (backend_ == nullptr) return TensorView{};
  uploaded_bytes_ += WeightBytes(host);
  return Named(backend_->UploadWeight(host, host.dtype), name);
}

Result<TensorView> WeightLoader::FusedRows(const std::vector<std::string>& names,
                                           const std::vector<int64_t>& rows, int64_t cols) {
  std::vector<TensorView> parts;
  for (size_t i = 0; i < names.size(); ++i) {
    AX_ASSIGN_OR_RETURN(TensorView host, HostMatrix(names[i], 1, rows[i], cols));
    if (i > 0 && host.dtype != parts[0].dtype)
      return InvalidArgument(names[i] + ": dtype " + DTypeName(host.dtype) + ", expected " +
                             DTypeName(parts[0].dtype) + " like " + names[0] + " (fused at load)");
    parts.push_back(host);
    uploaded_bytes_ += WeightBytes(host);
  }
  if (parts[0].dtype == DType::kAffine) {
    Result<AffineQuant> common = CommonAffineQuant(parts);
    if (!common.ok()) return InvalidArgument(names[0] + " and the matrices fused with it: " + common.status().message());
  }
  if (backend_ == nullptr) return TensorView{};
  return Named(backend_->UploadConcatRows(parts, parts[0].dtype), names[0] + " (fused with " + names.back() + ")");
}

Result<TensorView> WeightLoader::GatherRows(const std::vector<RowRange>& ranges, int64_t cols) {
  std::vector<std::pair<std::string, TensorView>> hosts;  // each named matrix once
  std::vector<TensorView> parts;
  for (const RowRange& r : ranges) {
    auto it = std::find_if(hosts.begin(), hosts.end(), [&](const auto& h) { return h.first == r.name; });
    if (it == hosts.end()) {
      AX_ASSIGN_OR_RETURN(TensorView host, HostMatrix(r.name, 1, r.rows, cols));
      if (!hosts.empty() && host.dtype != hosts[0].second.dtype)
        return InvalidArgument(r.name + ": dtype " + DTypeName(host.dtype) + ", expected " +
                               DTypeName(hosts[0].second.dtype) + " like " + hosts[0].first + " (fused at load)");
      uploaded_bytes_ += WeightBytes(host);
      hosts.emplace_back(r.name, host);
      it = hosts.end() - 1;
    }
    if (r.begin < 0 || r.count <= 0 || r.begin + r.count > r.rows)
      return InvalidArgument(r.name + ": rows [" + std::to_string(r.begin) + ", " + std::to_string(r.begin + r.count) +
                             ") outside its " + std::to_string(r.rows) + " rows");
    parts.push_back(HostRows(it->second, r.begin, r.count));
  }
  if (parts.empty()) return InvalidArgument("GatherRows: no rows");
  if (parts[0].dtype == DType::kAffine) {
    Result<AffineQuant> common = CommonAffineQuant(parts);
    if (!common.ok())
      return InvalidArgument(ranges[0].name + " and the matrices fused with it: " + common.status().message());
  }
  if (backend_ == nullptr) return TensorView{};
  return backend_->UploadConcatRows(parts, parts[0].dtype);
}

Result<TensorView> WeightLoader::FloatTensor(const std::string& name, const Shape& shape) {
  AX_ASSIGN_OR_RETURN(const TensorEntry* e, store_.Get(name, shape));
  used_.insert(name);
  if (backend_ == nullptr) return TensorView{};
  uploaded_bytes_ += static_cast<size_t>(shape.numel()) * 4;
  return backend_->UploadWeight(e->view(), DType::kF32);
}

Result<TensorView> WeightLoader::InterleavedStacks(const std::vector<std::string>& names, int64_t count,
                                                   const std::vector<int64_t>& rows, int64_t cols) {
  std::vector<TensorView> stacks;
  for (size_t i = 0; i < names.size(); ++i) {
    AX_ASSIGN_OR_RETURN(TensorView host, HostMatrix(names[i], count, rows[i], cols));
    if (i > 0 && host.dtype != stacks[0].dtype)
      return InvalidArgument(names[i] + ": dtype " + DTypeName(host.dtype) + ", expected " +
                             DTypeName(stacks[0].dtype) + " like " + names[0] + " (fused at load)");
    stacks.push_back(host);
    uploaded_bytes_ += WeightBytes(host);
  }
  std::vector<TensorView> parts;  // [count * names.size()]: entry e of every stack, then e + 1
  for (int64_t e = 0; e < count; ++e)
    for (size_t i = 0; i < stacks.size(); ++i) parts.push_back(HostRows(stacks[i], e * rows[i], rows[i]));
  if (parts[0].dtype == DType::kAffine) {
    Result<AffineQuant> common = CommonAffineQuant(parts);
    if (!common.ok()) return InvalidArgument(names[0] + " and the stacks fused with it: " + common.status().message());
  }
  if (backend_ == nullptr) return TensorView{};
  return Named(backend_->UploadConcatRows(parts, parts[0].dtype), names[0] + " (fused with " + names.back() + ")");
}

Result<TensorView> WeightLoader::Vector(const std::string& name, int64_t dim, float offset) {
  AX_ASSIGN_OR_RETURN(const TensorEntry* e, store_.Get(name, Shape{dim}));
  used_.insert(name);
  if (backend_ == nullptr) return TensorView{};
  uploaded_bytes_ += static_cast<size_t>(dim) * 4;
  if (offset == 0.0f) return Named(backend_->UploadWeight(e->view(), DType::kF32), name);
  std::vector<float> values(static_cast<size_t>(dim));
  const TensorView v = e->view();
  for (int64_t i = 0; i < dim; ++i) values[static_cast<size_t>(i)] = LoadF32(v, i) + offset;
  return Computed(values);
}

Result<TensorView> WeightLoader::ScaledVector(const std::string& name, int64_t dim, float scale) {
  AX_ASSIGN_OR_RETURN(const TensorEntry* e, store_.Get(name, Shape{dim}));
  used_.insert(name);
  if (backend_ == nullptr) return TensorView{};
  std::vector<float> values(static_cast<size_t>(dim));
  for (int64_t i = 0; i < dim; ++i) values[static_cast<size_t>(i)] = LoadF32(e->view(), i) * scale;
  return Computed(values);
}

Result<float> WeightLoader::Scalar(const std::string& name) {
  AX_ASSIGN_OR_RETURN(const TensorEntry* e, store_.Get(name, Shape{1}));
  used_.insert(name);
  return LoadF32(e->view(), 0);
}

Result<TensorView> WeightLoader::Computed(const std::vector<float>& values) {
  if (backend_ == nullptr) return TensorView{};
  const TensorView host{const_cast<float*>(values.data()), DType::kF32, Shape{static_cast<int64_t>(values.size())},
                        Device::kCpu};
  return backend_->UploadWeight(host, DType::kF32);
}

}  // namespace ax
