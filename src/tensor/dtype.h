// Element types of weights and activations, and scalar conversions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace ax {

// kU32: raw 32-bit words as a checkpoint stores packed codes (safetensors "U32").
// kAffine: an MLX affine-quantized matrix [rows, cols] (tensor/quant.h): its data are
// the packed codes, its AffineQuant the bits, group size, scales and biases. Not an
// element type: DTypeSize is 0 and sizes come from AffineRowBytes.
enum class DType { kF32, kF16, kBF16, kI32, kU32, kAffine };

size_t DTypeSize(DType dt);
// "F32", "F16", "BF16", "I32", "U32" (safetensors spelling), "AFFINE"
const char* DTypeName(DType dt);
// Parses a safetensors dtype string (F32, F16, BF16, I32, U32); false for anything else.
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

// The side tensors of an MLX affine-quantized matrix W [rows, cols] (DType::kAffine):
// row r's codes are a little-endian bit stream of `bits`-bit values (code j at bits
// [j*bits, (j+1)*bits) of the row's bytes, so 3/5/6-bit codes straddle bytes and
// words), rows AffineRowBytes(cols, bits) bytes apart; W[r, j] = scales[r, g] * code
// + biases[r, g] with g = j / group_size. scales and biases are [rows, cols /
// group_size] in scale_dtype (f32, f16 or bf16, as the checkpoint stores them).
struct AffineQuant {
  int bits = 0;        // 2, 3, 4, 5, 6 or 8
  int group_size = 0;  // 32, 64 or 128
  DType scale_dtype = DType::kF32;
  const void* scales = nullptr;
  const void* biases = nullptr;
};

// Bytes of one packed row of `cols` codes (cols * bits is a multiple of 32 whenever
// cols is a multiple of the group size).
constexpr int64_t AffineRowBytes(int64_t cols, int bits) { return cols * bits / 8; }

float F16ToF32(uint16_t h);
uint16_t F32ToF16(float f);

// Converts n elements of `src` (dtype dt) to f32.
void ConvertToF32(DType dt, const void* src, float* dst, size_t n);

}  // namespace ax
