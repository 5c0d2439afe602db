#include "model/layers/mlp.h"

namespace ax {

void GatedMlp(Backend& be, const MlpWeights& w, Workspace& ws, const TensorView& h, TensorView out,
              bool accumulate, int64_t prefill_rows) {
  const int64_t n = h.shape[0];
  const int64_t inter = w.w_down.shape[1];
  TensorView gate_up = View(ws.gate_up, n, 2 * inter);  // [n, 2*inter]
  TensorView act = View(ws.act, n, inter);              // [n, inter]
  be.MatmulGatedAct(h, w.w_gate_up, gate_up, act, w.act, prefill_rows);
  be.Matmul(act, w.w_down, out, accumulate, prefill_rows);
}

}  // namespace ax
