// Maps checkpoint tensors to backend tensors with shape checks. With no backend it
// only checks (doctor's validation reads headers, never weight bytes).
//
// Matrices may be MLX affine-quantized: "<module>.weight" [rows, cols * bits / 32] U32
// codes beside "<module>.scales" and "<module>.biases" [rows, cols / group_size] give
// a kAffine view [rows, cols] (tensor/quant.h), with bits and group size from
// config.json's quantization section (model/quant_config.h).
#pragma once

#include <set>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "model/quant_config.h"
#include "model/safetensors.h"

namespace ax {

class WeightLoader {
 public:
  // backend == nullptr: validation only; every Load returns an empty view.
  WeightLoader(const WeightStore& store, Backend* backend, const QuantizationConfig* quant = nullptr)
      : store_(store), backend_(backend), quant_(quant) {}

  // A matrix kept in its stored dtype (f32/f16/bf16 are all computed on directly), or
  // a kAffine view when the checkpoint quantized it.
  Result<TensorView> Matrix(const std::string& name, int64_t rows, int64_t cols);
  // A stack of matrices [count, rows, cols] (a MoE block's experts) viewed as one
  // [count * rows, cols] matrix in its stored dtype.
  Result<TensorView> Stacked(const std::string& name, int64_t count, int64_t rows, int64_t cols);
  // Several [r_i, cols] matrices fused into one [sum r_i, cols], in order (quantized
  // parts must share one format).
  Result<TensorView> FusedRows(const std::vector<std::string>& names, const std::vector<int64_t>& rows,
                               int64_t cols);
  // Several stacks [count, r_i, cols] fused per entry into one [count * sum r_i, cols]:
  // entry e's rows of each stack in order, then entry e + 1's (MLX's stacked switch_mlp
  // gate_proj and up_proj becoming per-expert gate rows then up rows).
  Result<TensorView> InterleavedStacks(const std::vector<std::string>& names, int64_t count,
                                       const std::vector<int64_t>& rows, int64_t cols);
  // Row ranges of stored matrices, concatenated in order into one [sum count, cols]
  // matrix: a checkpoint's interleaved projection reordered at load (Qwen3-Next's
  // in_proj_qkvz, per key-head group q | k | v | z, into q | k | v | z of all heads).
  // Each named matrix is [rows, cols] (checked once); float or kAffine.
  struct RowRange {
    std::string name;
    int64_t rows = 0;  // the stored matrix's rows
    int64_t begin = 0, count = 0;
  };
  Result<TensorView> GatherRows(const std::vector<RowRange>& ranges, int64_t cols);
  // Any float tensor of exactly `shape`, converted to f32 (a conv1d weight [C, 1, K]).
  Result<TensorView> FloatTensor(const std::string& name, const Shape& shape);
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
  // The stored shape of `name` (null when absent): layouts detected from the tensors.
  const Shape* StoredShape(const std::string& name) const {
    const TensorEntry* e = store_.Find(name);
    return e != nullptr ? &e->shape : nullptr;
  }
  // Whether a mapping read tensor `name` (doctor lists the ones no mapping read).
  bool used(const std::string& name) const { return used_.count(name) != 0; }
  size_t uploaded_bytes() const { return uploaded_bytes_; }

 private:
  // The host view of `name` [count * rows, cols] (count > 1: a stack [count, rows, cols]),
  // float or kAffine; shapes, dtypes and the quantization config checked.
  Result<TensorView> HostMatrix(const std::string& name, int64_t count, int64_t rows, int64_t cols);
  Result<TensorView> HostAffine(const std::string& name, const std::string& module, int64_t count, int64_t rows,
                                int64_t cols);

  const WeightStore& store_;
  Backend* backend_;
  const QuantizationConfig* quant_;
  size_t uploaded_bytes_ = 0;
  std::set<std::string> used_;
};

}  // namespace ax
