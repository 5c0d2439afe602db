// Memory-mapped safetensors reading (single file or sharded with
// model.safetensors.index.json) and writing (for synth-model and fixtures).
//
// File layout: u64 little-endian header length N, N bytes of JSON
//   {"name": {"dtype": "BF16", "shape": [..], "data_offsets": [begin, end]}, ...,
//    "__metadata__": {...}}
// then the data region; offsets are relative to the data region's start.
// Validation rejects (with the file and tensor named): a header past the end of the
// file, bad JSON, unknown dtypes, offsets past the end, end < begin, byte counts that
// disagree with dtype × shape, and overlapping ranges. Also: files under 8 bytes,
// headers over kMaxSafetensorsHeaderBytes or not a JSON object (invalid UTF-8 is bad
// JSON), tensors of more than kMaxDims dimensions, and dtypes other than F32, F16,
// BF16, I32 (F64, I8, F8_E4M3 ... give Unimplemented). Corrupt bytes give DataLoss,
// a missing file NotFound. docs/model-format.md lists every rule with its message.
//
// Alignment: a tensor's data is aligned to its dtype size when the header length is
// a multiple of 8 and tensors are ordered largest dtype first (every writer we know,
// and WriteSafetensors, does this); the reader does not require it, so check
// reinterpret_cast users against `data` if the file came from elsewhere.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ax/status.h"
#include "tensor/tensor.h"

namespace ax {

constexpr uint64_t kMaxSafetensorsHeaderBytes = 100'000'000;  // as the safetensors library

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

  // Opens one .safetensors file (mmap PROT_READ, MAP_PRIVATE, MADV_WILLNEED).
  static Result<WeightStore> OpenFile(const std::string& path);
  // Opens the shards listed by dir/model.safetensors.index.json when that exists,
  // else dir/model.safetensors. With an index, every weight_map entry must be found
  // in the shard it names; a missing shard is NotFound naming the shard and the index.
  static Result<WeightStore> OpenDir(const std::string& dir);

  // nullptr when absent.
  const TensorEntry* Find(const std::string& name) const;
  // The tensor, checked against the expected shape and dtype (F32/F16/BF16, or U32
  // for `packed` quantized codes):
  //   "model.layers.3.mlp.up_proj.weight: shape [1024, 3072], expected [3072, 1024] (in <file>)"
  Result<const TensorEntry*> Get(const std::string& name, const Shape& expected, bool packed = false) const;
  const std::map<std::string, TensorEntry>& tensors() const { return tensors_; }
  size_t total_bytes() const;
  // The files' "__metadata__" string entries (the first file's value wins on clashes).
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // Paths of the mapped files, in the order they were opened.
  const std::vector<std::string>& files() const { return files_; }

 private:
  struct Mapping;
  Status AddFile(const std::string& path);
  std::string Source() const;  // the file, or "<dir> (N shards)", for messages

  std::vector<std::unique_ptr<Mapping>> mappings_;
  std::map<std::string, TensorEntry> tensors_;
  std::map<std::string, std::string> metadata_;
  std::vector<std::string> files_;
};

// A tensor to write: the bytes are dtype × shape, little-endian.
struct TensorToWrite {
  std::string name;
  DType dtype = DType::kF32;
  Shape shape;
  std::vector<uint8_t> bytes;
};

// Writes a safetensors file (header padded to 8 bytes; data ordered by dtype size,
// largest first, then by name, so every tensor is aligned to its dtype size). The
// file is written to "<path>.tmp" and renamed into place.
// Errors: InvalidArgument for duplicate names or bytes that disagree with dtype × shape.
Status WriteSafetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                        const std::map<std::string, std::string>& metadata = {});

// The file name of shard i of n as Hugging Face names them: "model.safetensors" when
// n == 1, else "model-00001-of-00003.safetensors" (i = 0, n = 3).
std::string ShardFileName(size_t i, size_t n);

// Removes dir's model.safetensors, model.safetensors.index.json and shard files (and
// leftover "*.safetensors.tmp"), so a rewritten checkpoint never mixes with an old one.
Status RemoveSafetensorsFiles(const std::string& dir);

// The layout of a safetensors file, for writers that stream the data themselves
// (WriteSynthModel pwrite()s tensors from several threads into a preallocated file):
//   [prefix: u64 header length | JSON header | spaces to 8 bytes][data ...]
struct TensorSpec {
  std::string name;
  DType dtype = DType::kF32;
  Shape shape;
  size_t nbytes() const { return static_cast<size_t>(shape.numel()) * DTypeSize(dtype); }
};
struct SafetensorsLayout {
  std::string prefix;             // the file's first bytes, up to the data region
  std::vector<uint64_t> offsets;  // absolute file offset of specs[i]'s data (input order)
  uint64_t file_size = 0;
};
// REQUIRES nothing; InvalidArgument for empty/duplicate/"__metadata__" names or
// negative dims.
Result<SafetensorsLayout> PlanSafetensors(const std::vector<TensorSpec>& specs,
                                          const std::map<std::string, std::string>& metadata = {});

}  // namespace ax
