// DeviceArena: the CUDA backend's device memory. Everything the backend hands out
// (weights, KV cache, workspace, metadata) is carved from a few large cudaMalloc
// chunks reserved while the model loads; nothing is allocated while steps run.
//
//   chunk 0 [ meta | attention partials | cuBLAS workspace | weights ... ]
//   chunk 1 [ weights ...                                 | (unused tail) ]
//   chunk 2 [ lm_head (a tensor larger than a chunk gets a chunk of its own) ]
//   chunk 3 [ decoder workspace | KV cache layer 0 k, v | ... ]
//
// Before reserving, the arena asks the driver for free memory and fails with
// ResourceExhausted ("... needs 1.24 GiB, 0.61 GiB free of 79.19 GiB ...") instead of
// letting cudaMalloc fail later. Thread-compatible (the backend is single-threaded).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "ax/status.h"

namespace ax {

class DeviceArena {
 public:
  static constexpr size_t kAlign = 256;
  static constexpr size_t kChunkBytes = size_t{1} << 30;   // 1 GiB reservations
  static constexpr size_t kHeadroom = size_t{512} << 20;   // left to the driver and libraries

  DeviceArena() = default;
  DeviceArena(const DeviceArena&) = delete;
  DeviceArena& operator=(const DeviceArena&) = delete;
  ~DeviceArena();

  // `bytes` of device memory aligned to kAlign, for `what` (named in errors).
  Result<void*> Alloc(size_t bytes, const std::string& what);

  size_t reserved_bytes() const;  // cudaMalloc'd so far
  size_t used_bytes() const;      // handed out so far

 private:
  struct Chunk {
    char* base = nullptr;
    size_t size = 0, used = 0;
  };
  Status Reserve(size_t bytes, const std::string& what);
  std::vector<Chunk> chunks_;
};

}  // namespace ax
