// Element types of weights and activations, and scalar conversions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace ax {

enum class DType { kF32, kF16, kBF16, kI32 };

size_t DTypeSize(DType dt);
const char* DTypeName(DType dt);  // "F32", "F16", "BF16", "I32" (safetensors spelling)
// Parses a safetensors dtype string; false for anything else.
bool ParseDType(std::string_view name, DType* out);

inline float Bf16ToF32(uint16_t h) {
  uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// Round to nearest even; NaN stays NaN.
inline uint16_t F32ToBf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40);
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>(bits >> 16);
}

float F16ToF32(uint16_t h);
uint16_t F32ToF16(float f);

// Converts n elements of `src` (dtype dt) to f32.
void ConvertToF32(DType dt, const void* src, float* dst, size_t n);

}  // namespace ax
