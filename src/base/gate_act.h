// The activation of a gated MLP's gate half, shared by the model layers, the backends
// and the kernels (which include nothing above base/).
#pragma once

namespace ax {

enum class GateAct {
  kSilu,      // silu(g) = g / (1 + exp(-g))                       (Llama, Qwen)
  kGeluTanh,  // 0.5 g (1 + tanh(sqrt(2/pi) (g + 0.044715 g^3)))    (Gemma: gelu_pytorch_tanh)
};

inline const char* GateActName(GateAct a) {
  switch (a) {
    case GateAct::kSilu: return "silu";
    case GateAct::kGeluTanh: return "gelu_pytorch_tanh";
  }
  return "?";
}

}  // namespace ax
