#include "tensor/quant.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace ax {

bool IsAffineBits(int bits) { return bits == 2 || bits == 3 || bits == 4 || bits == 5 || bits == 6 || bits == 8; }
bool IsAffineGroupSize(int group) { return group == 32 || group == 64 || group == 128; }

float AffineSideValue(const void* side, DType dt, int64_t index) {
  switch (dt) {
    case DType::kF32: return static_cast<const float*>(side)[index];
    case DType::kF16: return F16ToF32(static_cast<const uint16_t*>(side)[index]);
    case DType::kBF16: return Bf16ToF32(static_cast<const uint16_t*>(side)[index]);
    case DType::kI32:
    case DType::kU32:
    case DType::kAffine: break;  // rejected at load
  }
  return std::numeric_limits<float>::quiet_NaN();
}

void DequantizeAffineRow(const void* codes, const AffineQuant& q, int64_t row, int64_t cols, float* out) {
  const auto* r = static_cast<const uint8_t*>(codes) + row * AffineRowBytes(cols, q.bits);
  const int64_t groups = cols / q.group_size;
  for (int64_t g = 0; g < groups; ++g) {
    const float s = AffineSideValue(q.scales, q.scale_dtype, row * groups + g);
    const float b = AffineSideValue(q.biases, q.scale_dtype, row * groups + g);
    for (int64_t j = g * q.group_size; j < (g + 1) * q.group_size; ++j) {
      out[j] = std::fma(s, static_cast<float>(AffineCode(r, j, q.bits)), b);
    }
  }
}

void WeightRowToF32(const void* data, DType dt, const AffineQuant& q, int64_t row, int64_t cols, float* out) {
  if (dt == DType::kAffine) return DequantizeAffineRow(data, q, row, cols, out);
  const size_t esize = DTypeSize(dt);
  ConvertToF32(dt, static_cast<const char*>(data) + static_cast<size_t>(row * cols) * esize, out,
               static_cast<size_t>(cols));
}

const void* WeightRowsFrom(const void* data, DType dt, AffineQuant* q, int64_t row0, int64_t cols) {
  const auto* base = static_cast<const char*>(data);
  if (dt != DType::kAffine) return base + static_cast<size_t>(row0 * cols) * DTypeSize(dt);
  const size_t side = static_cast<size_t>(row0 * (cols / q->group_size)) * DTypeSize(q->scale_dtype);
  q->scales = static_cast<const char*>(q->scales) + side;
  q->biases = static_cast<const char*>(q->biases) + side;
  return base + row0 * AffineRowBytes(cols, q->bits);
}

void QuantizeAffineRow(const float* w, int64_t cols, int bits, int group_size, uint8_t* codes, float* scales,
                       float* biases) {
  const float n_bins = static_cast<float>((1 << bits) - 1);
  for (int64_t g = 0; g * group_size < cols; ++g) {
    const float* wg = w + g * group_size;
    float lo = std::numeric_limits<float>::infinity(), hi = -lo;
    for (int j = 0; j < group_size; ++j) {
      lo = std::min(lo, wg[j]);
      hi = std::max(hi, wg[j]);
    }
    const bool edge_is_min = std::abs(lo) > std::abs(hi);
    float scale = std::max((hi - lo) / n_bins, 1e-7f);
    if (!edge_is_min) scale = -scale;
    const float edge = edge_is_min ? lo : hi;
    const float q0 = std::nearbyint(edge / scale);
    float bias = 0.0f;
    if (q0 != 0.0f) {
      scale = edge / q0;
      bias = edge;
    }
    for (int j = 0; j < group_size; ++j) {
      const float c = std::clamp(std::nearbyint((wg[j] - bias) / scale), 0.0f, n_bins);
      const int64_t bit = (g * group_size + j) * bits;
      const uint32_t v = static_cast<uint32_t>(c) << (bit & 7);
      codes[bit >> 3] = static_cast<uint8_t>(codes[bit >> 3] | (v & 0xffu));
      if ((bit & 7) + bits > 8) codes[(bit >> 3) + 1] = static_cast<uint8_t>(codes[(bit >> 3) + 1] | (v >> 8));
    }
    scales[g] = scale;
    biases[g] = bias;
  }
}

}  // namespace ax
