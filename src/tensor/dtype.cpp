#include "tensor/dtype.h"

#include <cmath>

namespace ax {

size_t DTypeSize(DType dt) {
  switch (dt) {
    case DType::kF32: return 4;
    case DType::kF16: return 2;
    case DType::kBF16: return 2;
    case DType::kI32: return 4;
    case DType::kU32: return 4;
    case DType::kAffine: return 0;
  }
  return 0;
}

const char* DTypeName(DType dt) {
  switch (dt) {
    case DType::kF32: return "F32";
    case DType::kF16: return "F16";
    case DType::kBF16: return "BF16";
    case DType::kI32: return "I32";
    case DType::kU32: return "U32";
    case DType::kAffine: return "AFFINE";
  }
  return "?";
}

bool ParseDType(std::string_view name, DType* out) {
  if (name == "F32") *out = DType::kF32;
  else if (name == "F16") *out = DType::kF16;
  else if (name == "BF16") *out = DType::kBF16;
  else if (name == "I32") *out = DType::kI32;
  else if (name == "U32") *out = DType::kU32;
  else return false;
  return true;
}

float F16ToF32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      exp = 127 - 15 + 1;
      while ((mant & 0x400u) == 0) {
        mant <<= 1;
        --exp;
      }
      mant &= 0x3ffu;
      bits = sign | (exp << 23) | (mant << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t F32ToF16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  const uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  const uint32_t absb = bits & 0x7fffffffu;
  if (absb > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u);  // NaN
  if (absb >= 0x47800000u) return static_cast<uint16_t>(sign | 0x7c00u); // overflow -> inf
  if (absb < 0x38800000u) {  // subnormal or zero in f16
    if (absb < 0x33000000u) return sign;
    const uint32_t exp = absb >> 23;
    const uint32_t mant = (absb & 0x7fffffu) | 0x800000u;
    // value = mant * 2^(exp-150); an f16 subnormal is v * 2^-24, so v = mant >> (126-exp).
    const uint32_t drop = 126 - exp;
    uint32_t v = mant >> drop;
    const uint32_t rem = mant & ((1u << drop) - 1);
    const uint32_t half = 1u << (drop - 1);
    if (rem > half || (rem == half && (v & 1u))) ++v;
    return static_cast<uint16_t>(sign | v);
  }
  uint32_t v = ((absb >> 13) - ((127 - 15) << 10));
  const uint32_t rem = absb & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (v & 1u))) ++v;
  return static_cast<uint16_t>(sign | v);
}

void ConvertToF32(DType dt, const void* src, float* dst, size_t n) {
  switch (dt) {
    case DType::kF32:
      std::memcpy(dst, src, n * 4);
      return;
    case DType::kF16: {
      const auto* s = static_cast<const uint16_t*>(src);
      for (size_t i = 0; i < n; ++i) dst[i] = F16ToF32(s[i]);
      return;
    }
    case DType::kBF16: {
      const auto* s = static_cast<const uint16_t*>(src);
      for (size_t i = 0; i < n; ++i) dst[i] = Bf16ToF32(s[i]);
      return;
    }
    case DType::kI32: {
      const auto* s = static_cast<const int32_t*>(src);
      for (size_t i = 0; i < n; ++i) dst[i] = static_cast<float>(s[i]);
      return;
    }
    case DType::kU32: {
      const auto* s = static_cast<const uint32_t*>(src);
      for (size_t i = 0; i < n; ++i) dst[i] = static_cast<float>(s[i]);
      return;
    }
    case DType::kAffine: break;  // not elementwise: DequantizeAffineRow
  }
}

}  // namespace ax
