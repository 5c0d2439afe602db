// Rotary embedding frequencies, with the rope_scaling types of config.json.
#pragma once

#include <vector>

#include "model/config.h"

namespace ax {

// inv_freq[i] = 1 / theta^(2i / head_dim) for i in [0, head_dim/2), then scaled:
//  - linear: divided by factor (positions / factor);
//  - llama3: wavelengths above original_max/low_freq_factor divided by factor, below
//    original_max/high_freq_factor kept, smoothly interpolated in between
//    (as transformers' _compute_llama3_parameters).
std::vector<float> RopeInvFreq(int64_t head_dim, double theta, const RopeScaling& scaling);
// The model's (full-attention layers') rope: RopeInvFreq(head_dim, rope_theta, rope_scaling).
std::vector<float> RopeInvFreq(const ModelConfig& cfg);

}  // namespace ax
