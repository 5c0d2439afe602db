// The experts of a mixture-of-experts block (contract: MoeParams in kernels/params.h).
//
// Rows are grouped by expert (ascending expert id, rows ascending within it, prompt rows
// and generated rows in separate groups), each group's rows are gathered into a dense
// block and run through the matmul kernel of their class — gate/up, the activation,
// down — so an expert's weights are read once per group rather than once per row.
// Every kernel involved gives a row the same bits whatever other rows share its call,
// so a row's result does not depend on how many rows routed to the same expert. Each
// (row, rank) result is kept apart and the k results of a row are summed in rank
// order at the end: the same order whatever the batch.
#include <algorithm>
#include <vector>

#include "base/check.h"
#include "kernels/cpu/cpu.h"
#include "tensor/quant.h"

namespace ax::kernels::cpu {

void Moe(const MoeParams& p, ThreadPool& pool) {
  AX_CHECK(p.k > 0 && p.num_experts > 0 && p.inter > 0 && p.hidden > 0);
  const int64_t H = p.hidden, I = p.inter;
  // results[(r * k + j) * H + h]: row r's rank-j expert output, before weighting.
  std::vector<float> results(static_cast<size_t>(p.n * p.k * H));
  std::vector<int64_t> slots;  // (r * k + j) of the current group
  std::vector<float> xs, gate_up, act, ys;
  for (int e = 0; e < p.num_experts; ++e) {
    for (int cls = 0; cls < 2; ++cls) {  // 0: prompt rows, 1: generated rows
      slots.clear();
      const int64_t r0 = cls == 0 ? 0 : p.prompt_rows, r1 = cls == 0 ? p.prompt_rows : p.n;
      for (int64_t r = r0; r < r1; ++r)
        for (int j = 0; j < p.k; ++j)
          if (p.ids[r * p.k + j] == e) slots.push_back(r * p.k + j);
      const int64_t m = static_cast<int64_t>(slots.size());
      if (m == 0) continue;
      xs.resize(static_cast<size_t>(m * H));
      for (int64_t i = 0; i < m; ++i)
        std::copy_n(p.x + slots[static_cast<size_t>(i)] / p.k * H, H, xs.begin() + i * H);
      gate_up.resize(static_cast<size_t>(m * 2 * I));
      act.resize(static_cast<size_t>(m * I));
      ys.resize(static_cast<size_t>(m * H));
      MatmulParams mp;
      mp.kernel = cls == 0 ? MatmulKernel::kThroughput : MatmulKernel::kRowInvariant;
      mp.w_dtype = p.w_dtype;
      mp.m = m;
      mp.x = xs.data();
      mp.wq = p.gate_up_q;
      mp.w = WeightRowsFrom(p.gate_up, p.w_dtype, &mp.wq, e * 2 * I, H);
      mp.n = 2 * I;
      mp.k = H;
      mp.y = gate_up.data();
      MatmulWithKernel(mp, pool);
      GatedActParams gp;
      gp.gate_up = gate_up.data();
      gp.out = act.data();
      gp.m = m;
      gp.f = I;
      gp.act = p.act;
      GatedAct(gp, pool);
      mp.x = act.data();
      mp.wq = p.down_q;
      mp.w = WeightRowsFrom(p.down, p.w_dtype, &mp.wq, e * H, I);
      mp.n = H;
      mp.k = I;
      mp.y = ys.data();
      MatmulWithKernel(mp, pool);
      for (int64_t i = 0; i < m; ++i)
        std::copy_n(ys.begin() + i * H, H, results.begin() + slots[static_cast<size_t>(i)] * H);
    }
  }
  pool.ParallelFor(p.n, 1, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      float* out = p.out + r * H;
      std::fill(out, out + H, 0.0f);
      for (int j = 0; j < p.k; ++j) {
        const float w = p.weights[r * p.k + j];
        const float* y = results.data() + (r * p.k + j) * H;
        for (int64_t h = 0; h < H; ++h) out[h] += w * y[h];
      }
    }
  });
}

}  // namespace ax::kernels::cpu
