#include "model/weights.h"

#include "tensor/dtype.h"

namespace ax {
namespace {

// Element i of a host tensor of f32, f16 or bf16, as f32.
float LoadF32(const TensorView& v, int64_t i) {
  switch (v.dtype) {
    case DType::kF32: return static_cast<const float*>(v.data)[i];
    case DType::kBF16: return Bf16ToF32(static_cast<const uint16_t*>(v.data)[i]);
    case DType::kF16: return F16ToF32(static_cast<const uint16_t*>(v.data)[i]);
    case DType::kI32: break;
  }
  return static_cast<float>(static_cast<const int32_t*>(v.data)[i]);
}

}  // namespace

Result<TensorView> WeightLoader::Matrix(const std::string& name, int64_t rows, int64_t cols) {
  AX_ASSIGN_OR_RETURN(const TensorEntry* e, store_.Get(name, Shape{rows, cols}));
  used_.insert(name);
  if (backend_ == nullptr) return TensorView{};
  uploaded_bytes_ += e->nbytes;
  return backend_->UploadWeight(e->view(), e->dtype);
}

Result<TensorView> WeightLoader::Stacked(const std::string& name, int64_t count, int64_t rows, int64_t cols) {
  AX_ASSIGN_OR_RETURN(const TensorEntry* e, store_.Get(name, Shape{count, rows, cols}));
  used_.insert(name);
  if (backend_ == nullptr) return TensorView{};
  uploaded_bytes_ += e->nbytes;
  TensorView host = e->view();
  host.shape = Shape{count * rows, cols};
  return backend_->UploadWeight(host, e->dtype);
}

Result<TensorView> WeightLoader::FusedRows(const std::vector<std::string>& names,
                                           const std::vector<int64_t>& rows, int64_t cols) {
  std::vector<TensorView> parts;
  DType dtype = DType::kF32;
  for (size_t i = 0; i < names.size(); ++i) {
    AX_ASSIGN_OR_RETURN(const TensorEntry* e, store_.Get(names[i], Shape{rows[i], cols}));
    used_.insert(names[i]);
    if (i == 0) dtype = e->dtype;
    if (e->dtype != dtype)
      return InvalidArgument(names[i] + ": dtype " + DTypeName(e->dtype) + ", expected " + DTypeName(dtype) +
                             " like " + names[0] + " (fused at load)");
    parts.push_back(e->view());
    uploaded_bytes_ += e->nbytes;
  }
  if (backend_ == nullptr) return TensorView{};
  return backend_->UploadConcatRows(parts, dtype);
}

Result<TensorView> WeightLoader::Vector(const std::string& name, int64_t dim, float offset) {
  AX_ASSIGN_OR_RETURN(const TensorEntry* e, store_.Get(name, Shape{dim}));
  used_.insert(name);
  if (backend_ == nullptr) return TensorView{};
  uploaded_bytes_ += static_cast<size_t>(dim) * 4;
  if (offset == 0.0f) return backend_->UploadWeight(e->view(), DType::kF32);
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
