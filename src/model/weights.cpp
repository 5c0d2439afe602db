#include "model/weights.h"

namespace ax {

Result<TensorView> WeightLoader::Matrix(const std::string& name, int64_t rows, int64_t cols) {
  AX_ASSIGN_OR_RETURN(const TensorEntry* e, store_.Get(name, Shape{rows, cols}));
  if (backend_ == nullptr) return TensorView{};
  uploaded_bytes_ += e->nbytes;
  return backend_->UploadWeight(e->view(), e->dtype);
}

Result<TensorView> WeightLoader::FusedRows(const std::vector<std::string>& names,
                                           const std::vector<int64_t>& rows, int64_t cols) {
  std::vector<TensorView> parts;
  DType dtype = DType::kF32;
  for (size_t i = 0; i < names.size(); ++i) {
    AX_ASSIGN_OR_RETURN(const TensorEntry* e, store_.Get(names[i], Shape{rows[i], cols}));
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

Result<TensorView> WeightLoader::Vector(const std::string& name, int64_t dim) {
  AX_ASSIGN_OR_RETURN(const TensorEntry* e, store_.Get(name, Shape{dim}));
  if (backend_ == nullptr) return TensorView{};
  uploaded_bytes_ += static_cast<size_t>(dim) * 4;
  return backend_->UploadWeight(e->view(), DType::kF32);
}

}  // namespace ax
