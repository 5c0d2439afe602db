// The gated MLP of every dense family: out (+)= down(act(gate(h)) * up(h)), with gate
// and up fused into one [2*inter, hidden] weight at load (gate rows, then up rows).
#pragma once

#include "backend/backend.h"
#include "model/layers/workspace.h"

namespace ax {

struct MlpWeights {
  TensorView w_gate_up;  // [2*inter, hidden]
  TensorView w_down;     // [hidden, inter]
  GateAct act = GateAct::kSilu;
};

// out [n, hidden] (+)= mlp(h [n, hidden]); ws.gate_up and ws.act are scratch.
void GatedMlp(Backend& be, const MlpWeights& w, Workspace& ws, const TensorView& h, TensorView out,
              bool accumulate, int64_t prefill_rows);

}  // namespace ax
