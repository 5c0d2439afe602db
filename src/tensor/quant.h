// Scalar MLX affine quantization (DType::kAffine, AffineQuant in tensor/dtype.h): the
// bit-stream layout, one row's dequantization and the round-to-nearest quantizer the
// quantize command writes with. Plain loops: the reference for every quantized kernel
// and the load-time paths (embedding rows, tests), never a hot loop.
#pragma once

#include <cstdint>

#include "tensor/dtype.h"

namespace ax {

// Bit widths and group sizes MLX's affine mode defines.
bool IsAffineBits(int bits);          // 2, 3, 4, 5, 6, 8
bool IsAffineGroupSize(int group);    // 32, 64, 128

// Code j of a packed row (bits [j*bits, (j+1)*bits) of the little-endian stream).
inline uint32_t AffineCode(const uint8_t* row, int64_t j, int bits) {
  const int64_t bit = j * bits;
  const uint8_t* p = row + (bit >> 3);
  const int shift = static_cast<int>(bit & 7);
  // A code of <= 8 bits starting at `shift` spans at most two bytes.
  uint32_t v = p[0];
  if (shift + bits > 8) v |= static_cast<uint32_t>(p[1]) << 8;
  return (v >> shift) & ((1u << bits) - 1u);
}

// scales[row, g] (or biases) as f32.
float AffineSideValue(const void* side, DType dt, int64_t index);

// out[j] = W[row, j] for j < cols: fma(scale, code, bias) in f32 per element.
// `codes` is the matrix's packed data (row 0).
void DequantizeAffineRow(const void* codes, const AffineQuant& q, int64_t row, int64_t cols, float* out);

// Row `row` of a [rows, cols] weight in any weight format (f32, f16, bf16, kAffine) as f32.
void WeightRowToF32(const void* data, DType dt, const AffineQuant& q, int64_t row, int64_t cols, float* out);

// Rows [row0, ...) of a [rows, cols] weight of dtype dt: the data pointer of row row0,
// with q (kAffine) moved to the scales and biases of that row.
const void* WeightRowsFrom(const void* data, DType dt, AffineQuant* q, int64_t row0, int64_t cols);

// Quantizes one row w[cols] (cols a multiple of group_size) into packed codes
// (AffineRowBytes(cols, bits) bytes, zeroed by the caller) and f32 scales / biases
// [cols / group_size], as MLX's affine mode does per group:
//   n = 2^bits - 1; scale = max((max - min) / n, 1e-7), signed toward the edge of larger
//   magnitude (edge = min, scale > 0 when |min| > |max|, else edge = max, scale < 0);
//   q0 = round(edge / scale); when q0 != 0, scale = edge / q0 and bias = edge (so the
//   edge is exact), else bias = 0; code = clamp(round((w - bias) / scale), 0, n).
// Rounding is to nearest, ties to even. The caller stores scales and biases in the
// checkpoint's dtype; codes are computed with the f32 values, as MLX does.
void QuantizeAffineRow(const float* w, int64_t cols, int bits, int group_size, uint8_t* codes, float* scales,
                       float* biases);

}  // namespace ax
