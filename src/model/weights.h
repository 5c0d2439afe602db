// Maps checkpoint tensors to backend tensors with shape checks. With no backend it
// only checks (doctor's validation reads headers, never weight bytes).
#pragma once

#include <string>
#include <vector>

#include "backend/backend.h"
#include "model/safetensors.h"

namespace ax {

class WeightLoader {
 public:
  // backend == nullptr: validation only; every Load returns an empty view.
  WeightLoader(const WeightStore& store, Backend* backend) : store_(store), backend_(backend) {}

  // A matrix kept in its stored dtype (f32/f16/bf16 are all computed on directly).
  Result<TensorView> Matrix(const std::string& name, int64_t rows, int64_t cols);
  // Several [r_i, cols] matrices fused into one [sum r_i, cols], in order.
  Result<TensorView> FusedRows(const std::vector<std::string>& names, const std::vector<int64_t>& rows,
                               int64_t cols);
  // A norm weight [dim], converted to f32.
  Result<TensorView> Vector(const std::string& name, int64_t dim);

  bool Has(const std::string& name) const { return store_.Find(name) != nullptr; }
  size_t uploaded_bytes() const { return uploaded_bytes_; }

 private:
  const WeightStore& store_;
  Backend* backend_;
  size_t uploaded_bytes_ = 0;
};

}  // namespace ax
