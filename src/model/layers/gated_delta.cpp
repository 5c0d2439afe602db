#include "model/layers/gated_delta.h"

namespace ax {

void GatedDeltaBlock(Backend& be, const GatedDeltaShape& shape, const GatedDeltaLayerWeights& w,
                     const KvLayerView& state, Workspace& ws, const TensorView& h, TensorView out, bool accumulate,
                     int64_t prefill_rows) {
  const int64_t n = h.shape[0];
  TensorView proj = View(ws.lin_proj, n, shape.proj_cols());                   // [n, q|k|v|z|b|a]
  TensorView core = View(ws.lin_out, n, int64_t{shape.n_v_heads} * shape.dv);  // [n, v heads, dv]
  be.Matmul(h, w.in_proj, proj, /*accumulate=*/false, prefill_rows);
  be.GatedDelta(proj, w.gd, shape, state, View(ws.lin_conv, n, shape.conv_dim()), core);
  be.Matmul(core, w.out_proj, out, accumulate, prefill_rows);
}

}  // namespace ax
