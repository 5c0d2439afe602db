// TensorView: a non-owning view (pointer + dtype + shape + row-major strides + device).
// Ownership is the backend's business; views are cheap to copy.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "tensor/dtype.h"

namespace ax {

enum class Device { kCpu, kCuda };

constexpr int kMaxDims = 4;

struct Shape {
  int ndim = 0;
  std::array<int64_t, kMaxDims> dims{};

  Shape() = default;
  Shape(std::initializer_list<int64_t> d);
  int64_t operator[](int i) const { return dims[i]; }
  int64_t numel() const;
  bool operator==(const Shape& o) const;
  std::string ToString() const;  // "[3072, 1024]"
};

struct TensorView {
  void* data = nullptr;
  DType dtype = DType::kF32;
  Shape shape;
  Device device = Device::kCpu;
  AffineQuant quant;  // dtype kAffine: bits, group size, scales, biases (same device)

  TensorView() = default;
  TensorView(void* d, DType t, Shape s, Device dev) : data(d), dtype(t), shape(s), device(dev) {}

  int64_t numel() const { return shape.numel(); }
  // Bytes of data (for kAffine: the packed codes of a [rows, cols] matrix).
  size_t nbytes() const {
    if (dtype == DType::kAffine)
      return static_cast<size_t>(shape[0] * AffineRowBytes(shape[shape.ndim - 1], quant.bits));
    return static_cast<size_t>(numel()) * DTypeSize(dtype);
  }
  template <typename T>
  T* as() const { return static_cast<T*>(data); }
};

}  // namespace ax
