// libFuzzer target: a .safetensors image (8-byte header length, JSON header, data).
// The reader must return either a store whose every tensor lies inside the file, holds
// the file's bytes at its data_offsets and agrees with dtype × shape, or an error that
// names the file; it must never crash or read outside the file.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>

#include "model/safetensors.h"

namespace {

std::string TempPath() {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/ax_fuzz_safetensors_" + std::to_string(getpid());
}

void Require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = TempPath();
  std::remove(path.c_str());  // a new file each time (see tests/model/safetensors_fuzz_test.cpp)
  FILE* f = std::fopen(path.c_str(), "wb");
  Require(f != nullptr, "temp file");
  if (size > 0) Require(std::fwrite(data, 1, size, f) == size, "temp file write");
  std::fclose(f);
  auto store = ax::WeightStore::OpenFile(path);
  if (!store.ok()) {
    Require(store.status().message().find(path) != std::string::npos, "the error names the file");
    return 0;
  }
  uint64_t n = 0;
  std::memcpy(&n, data, 8);
  const auto header = nlohmann::json::parse(reinterpret_cast<const char*>(data) + 8,
                                            reinterpret_cast<const char*>(data) + 8 + n);
  for (const auto& [name, t] : store->tensors()) {
    Require(t.nbytes == static_cast<size_t>(t.shape.numel()) * ax::DTypeSize(t.dtype), "nbytes = numel × dtype");
    const uint64_t begin = header.at(name).at("data_offsets").at(0).get<uint64_t>();
    Require(8 + n + begin + t.nbytes <= size, "tensor inside the file");
    Require(t.nbytes == 0 || std::memcmp(t.data, data + 8 + n + begin, t.nbytes) == 0, "tensor bytes");
  }
  return 0;
}
