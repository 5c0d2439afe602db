#include "model/layers/rope.h"

#include <cmath>

namespace ax {

std::vector<float> RopeInvFreq(int64_t head_dim, double theta, const RopeScaling& rs) {
  const int64_t half = head_dim / 2;
  // Proportional: int(partial_rotary_factor * head_dim // 2) turning pairs, as
  // transformers' _compute_proportional_rope_parameters.
  const int64_t turning = rs.type == RopeScalingType::kProportional
                              ? static_cast<int64_t>(std::floor(rs.partial_rotary_factor * head_dim / 2))
                              : half;
  std::vector<float> out(static_cast<size_t>(half));
  for (int64_t i = 0; i < half; ++i) {
    double f = 1.0 / std::pow(theta, static_cast<double>(2 * i) / static_cast<double>(head_dim));
    switch (rs.type) {
      case RopeScalingType::kNone:
        break;
      case RopeScalingType::kProportional:
        f = i < turning ? f / rs.factor : 0.0;
        break;
      case RopeScalingType::kLinear:
        f /= rs.factor;
        break;
      case RopeScalingType::kLlama3: {
        const double old_ctx = static_cast<double>(rs.original_max_position_embeddings);
        const double low_wavelen = old_ctx / rs.low_freq_factor;
        const double high_wavelen = old_ctx / rs.high_freq_factor;
        const double wavelen = 2.0 * M_PI / f;
        if (wavelen > low_wavelen) {
          f /= rs.factor;
        } else if (wavelen >= high_wavelen) {
          const double smooth = (old_ctx / wavelen - rs.low_freq_factor) / (rs.high_freq_factor - rs.low_freq_factor);
          f = (1.0 - smooth) * f / rs.factor + smooth * f;
        }
        break;
      }
    }
    out[static_cast<size_t>(i)] = static_cast<float>(f);
  }
  return out;
}

std::vector<float> RopeInvFreq(const ModelConfig& cfg) {
  return RopeInvFreq(cfg.head_dim, cfg.rope_theta, cfg.rope_scaling);
}

}  // namespace ax
