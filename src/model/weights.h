// Maps checkpoint tensors to backend tensors with shape checks. With no backend it
// only checks (doctor's validation reads headers, never weight bytes).
#pragma once

#include <set>
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
  // A stack of matrices [count, rows, cols] (a MoE block's experts) viewed as one
  // [count * rows, cols] matrix in its stored dtype.
  Result<TensorView> Stacked(const std::string& name, int64_t count, int64_t rows, int64_t cols);
  // Several [r_i, cols] matrices fused into one [sum r_i, cols], in order.
  Result<TensorView> FusedRows(const std::vector<std::string>& names, const std::vector<int64_t>& rows,
                               int64_t cols);
  // A norm weight [dim], converted to f32, plus `offset` (1 for Gemma's (1 + w) RMSNorm,
  // folded at load: the f32 sum is what transformers multiplies by).
  Result<TensorView> Vector(const std::string& name, int64_t dim, float offset = 0.0f);
  // A vector [dim] converted to f32 and multiplied by `scale` (a scale folded at load).
  Result<TensorView> ScaledVector(const std::string& name, int64_t dim, float scale);
  // A one-element tensor's value (Gemma 4's layer_scalar [1]), read on the host.
  Result<float> Scalar(const std::string& name);
  // A tensor computed at load (rope frequencies), uploaded as f32 [values.size()].
  Result<TensorView> Computed(const std::vector<float>& values);

  bool Has(const std::string& name) const { return store_.Find(name) != nullptr; }
  // Whether a mapping read tensor `name` (doctor lists the ones no mapping read).
  bool used(const std::string& name) const { return used_.count(name) != 0; }
  size_t uploaded_bytes() const { return uploaded_bytes_; }

 private:
  const WeightStore& store_;
  Backend* backend_;
  size_t uploaded_bytes_ = 0;
  std::set<std::string> used_;
};

}  // namespace ax
