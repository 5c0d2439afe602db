#include "model/layers/head.h"

#include <algorithm>
#include <cstring>

#include "base/check.h"

namespace ax {

ForwardOutput ForwardOutput::Logits(float* logits) {
  ForwardOutput o;
  o.logits = logits;
  return o;
}

ForwardOutput ForwardOutput::Argmax(int32_t* ids, const LogitPenalties& penalties) {
  ForwardOutput o;
  o.argmax = ids;
  o.penalties = penalties;
  return o;
}

ForwardOutput ForwardOutput::Top(int k, int32_t* ids, float* vals, const float* inv_temperature, float* mass,
                                 const LogitPenalties& penalties) {
  ForwardOutput o;
  o.top_k = k;
  o.top_ids = ids;
  o.top_vals = vals;
  o.inv_temperature = inv_temperature;
  o.top_mass = mass;
  o.penalties = penalties;
  return o;
}

namespace {

// The start of buffer t viewed densely as `shape` (e.g. the first r entries of the
// argmax buffer, or r rows of k of the [max rows, kMaxTopRows] candidate buffers).
TensorView Prefix(const TensorView& t, Shape shape) {
  TensorView v = t;
  v.shape = shape;
  return v;
}

}  // namespace

Status RunForward(Backend& be, const HeadWeights& head, Workspace& ws, const ForwardBatch& batch,
                  const ForwardOutput& out, int64_t vocab, const std::function<void()>& layers) {
  const int64_t n = batch.n_tokens();
  AX_CHECK(n > 0 && n <= ws.max_tokens);
  const bool top = out.top_k > 0;
  BatchMeta meta = batch.meta();
  meta.argmax_only = out.argmax != nullptr;
  meta.top_k = out.top_k;
  meta.row_mass = out.top_mass != nullptr;
  meta.penalties = out.penalties;
  meta.logit_inv_temperature = out.inv_temperature;
  AX_RETURN_IF_ERROR(be.BeginForward(meta));

  // Logits only for the rows that need them, in chunks of the logits buffer; then their
  // argmax or their best top_k when that is all the caller reads.
  const int64_t rows = static_cast<int64_t>(batch.logit_rows.size());
  // The packed top-k results of a chunk of r rows (Workspace::top).
  const auto top_part = [&](int64_t r, int part) {
    const int64_t rk = r * out.top_k;
    TensorView v = ws.top;
    v.data = static_cast<float*>(ws.top.data) + part * rk;
    v.dtype = part == 0 ? DType::kI32 : DType::kF32;
    v.shape = part == 2 ? Shape{r} : Shape{r, out.top_k};
    return v;
  };
  const auto logits_chunk = [&](int64_t r0) {
    const int64_t r = std::min(ws.max_logit_rows, rows - r0);
    TensorView in = Rows(ws.logit_in, r);
    TensorView logits = Rows(ws.logits, r);
    be.GatherLogitRows(Rows(ws.x, n), in, r0);
    be.RmsNorm(in, head.final_norm, head.norm_eps, in);
    be.Matmul(in, head.lm_head, logits, false, /*throughput_rows=*/0);  // logits: always row-invariant
    if (head.softcap > 0) be.Softcap(logits, head.softcap);
    if (meta.penalties.any()) be.ApplyPenalties(logits, r0);
    if (meta.argmax_only) be.ArgmaxRows(logits, Prefix(ws.argmax, Shape{r}));
    if (top) be.TopRows(logits, out.top_k, top_part(r, 0), top_part(r, 1));
    if (meta.row_mass) be.RowMass(logits, top_part(r, 1), r0, top_part(r, 2));
    return r;
  };
  const auto read_back = [&](int64_t r0, int64_t r) -> Status {
    if (meta.argmax_only) return be.ReadToHost(ws.argmax, out.argmax + r0, static_cast<size_t>(r) * sizeof(int32_t));
    if (top) {
      const size_t rk = static_cast<size_t>(r * out.top_k);
      const size_t floats = 2 * rk + (meta.row_mass ? static_cast<size_t>(r) : 0);
      AX_RETURN_IF_ERROR(be.ReadToHost(ws.top, ws.top_host.data(), floats * sizeof(float)));
      std::memcpy(out.top_ids + r0 * out.top_k, ws.top_host.data(), rk * sizeof(int32_t));
      std::memcpy(out.top_vals + r0 * out.top_k, ws.top_host.data() + rk, rk * sizeof(float));
      if (meta.row_mass)
        std::memcpy(out.top_mass + r0, ws.top_host.data() + 2 * rk, static_cast<size_t>(r) * sizeof(float));
      return Status::Ok();
    }
    return be.ReadToHost(ws.logits, out.logits + r0 * vocab, Rows(ws.logits, r).nbytes());
  };
  // A forward whose logits fit one chunk is recordable whole (see Backend::ReplayForward).
  if (rows <= ws.max_logit_rows) {
    if (!be.ReplayForward()) {
      be.BeginRecord();
      layers();
      if (rows > 0) logits_chunk(0);
      be.EndRecord();
    }
    return rows == 0 ? Status::Ok() : read_back(0, rows);
  }
  layers();
  for (int64_t r0 = 0; r0 < rows; r0 += ws.max_logit_rows) AX_RETURN_IF_ERROR(read_back(r0, logits_chunk(r0)));
  return Status::Ok();
}

}  // namespace ax
