#include "backend/cuda/device_arena.h"

#include <algorithm>
#include <cstdio>

#include "kernels/cuda/cuda_check.h"

namespace ax {
namespace {

std::string GiB(size_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f GiB", static_cast<double>(bytes) / (1u << 30));
  return buf;
}

}  // namespace

DeviceArena::~DeviceArena() {
  for (Chunk& c : chunks_) AX_CUDA_WARN(cudaFree(c.base));  // teardown: report, do not abort
}

Status DeviceArena::Reserve(size_t bytes, const std::string& what) {
  size_t free_b = 0, total_b = 0;
  AX_CUDA_RETURN_IF_ERROR(cudaMemGetInfo(&free_b, &total_b));
  const size_t usable = free_b > kHeadroom ? free_b - kHeadroom : 0;
  if (bytes > usable) {
    return ResourceExhausted("cuda: " + what + " needs " + GiB(bytes) + " of device memory, but only " +
                             GiB(free_b) + " of " + GiB(total_b) + " is free (" + GiB(reserved_bytes()) +
                             " already reserved by this backend, " + GiB(kHeadroom) +
                             " kept for the driver): the model, KV cache and workspace do not fit; use a "
                             "smaller model or dtype, or a smaller --ctx-size / --kv-cache-mb");
  }
  // A full chunk when it fits, else exactly what is needed.
  const size_t size = std::max(bytes, std::min(kChunkBytes, usable));
  void* p = nullptr;
  AX_CUDA_RETURN_IF_ERROR(cudaMalloc(&p, size));
  chunks_.push_back(Chunk{static_cast<char*>(p), size, 0});
  return Status::Ok();
}

Result<void*> DeviceArena::Alloc(size_t bytes, const std::string& what) {
  bytes = (std::max<size_t>(bytes, 1) + kAlign - 1) / kAlign * kAlign;
  // First fit over the open chunks keeps the tails of earlier chunks in use for
  // small tensors (norm weights after a big matrix).
  for (Chunk& c : chunks_) {
    if (c.size - c.used >= bytes) {
      void* p = c.base + c.used;
      c.used += bytes;
      return p;
    }
  }
  AX_RETURN_IF_ERROR(Reserve(bytes, what));
  Chunk& c = chunks_.back();
  c.used = bytes;
  return static_cast<void*>(c.base);
}

size_t DeviceArena::reserved_bytes() const {
  size_t s = 0;
  for (const Chunk& c : chunks_) s += c.size;
  return s;
}

size_t DeviceArena::used_bytes() const {
  size_t s = 0;
  for (const Chunk& c : chunks_) s += c.used;
  return s;
}

}  // namespace ax
