// Memory-mapped safetensors reading (single file or sharded with
// model.safetensors.index.json) and writing (for synth-model and fixtures).
//
// File layout: u64 little-endian header length N, N bytes of JSON
//   {"name": {"dtype": "BF16", "shape": [..], "data_offsets": [begin, end]}, ...,
//    "__metadata__": {...}}
// then the data region; offsets are relative to the data region's start.
// Validation rejects (with the file and tensor named): a header past the end of the
// file, bad JSON, unknown dtypes, offsets past the end, end < begin, byte counts that
// disagree with dtype × shape, and overlapping ranges.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ax/status.h"
#include "tensor/tensor.h"

namespace ax {

struct TensorEntry {
  std::string name;
  DType dtype = DType::kF32;
  Shape shape;
  const void* data = nullptr;  // points into the mapping
  size_t nbytes = 0;
  std::string file;            // path of the file that holds it

  TensorView view() const { return TensorView{const_cast<void*>(data), dtype, shape, Device::kCpu}; }
};

// A set of mapped safetensors files with a name → tensor index. Move-only; the
// mappings live as long as the store.
class WeightStore {
 public:
  WeightStore();
  ~WeightStore();
  WeightStore(WeightStore&&) noexcept;
  WeightStore& operator=(WeightStore&&) noexcept;

  // Opens one .safetensors file.
  static Result<WeightStore> OpenFile(const std::string& path);
  // Opens dir/model.safetensors, or the shards listed by dir/model.safetensors.index.json.
  static Result<WeightStore> OpenDir(const std::string& dir);

  // nullptr when absent.
  const TensorEntry* Find(const std::string& name) const;
  // The tensor, checked against the expected shape (any dtype of F32/F16/BF16):
  //   "model.layers.3.mlp.up_proj.weight: shape [1024, 3072], expected [3072, 1024] (in <file>)"
  Result<const TensorEntry*> Get(const std::string& name, const Shape& expected) const;
  const std::map<std::string, TensorEntry>& tensors() const { return tensors_; }
  size_t total_bytes() const;

 private:
  struct Mapping;
  std::vector<std::unique_ptr<Mapping>> mappings_;
  std::map<std::string, TensorEntry> tensors_;
};

// A tensor to write: the bytes are dtype × shape, little-endian.
struct TensorToWrite {
  std::string name;
  DType dtype = DType::kF32;
  Shape shape;
  std::vector<uint8_t> bytes;
};

// Writes a safetensors file (tensors sorted by name, header padded to 8 bytes).
Status WriteSafetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                        const std::map<std::string, std::string>& metadata = {});

}  // namespace ax
