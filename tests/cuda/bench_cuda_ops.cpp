// bench_cuda_ops: per-op device time of the CUDA backend at Qwen3-8B shapes, batch-1
// decode (m = 1), batched decode steps (32 and 128 sequences, one token each) and a
// 512-token prefill, through the Backend interface only.
// Each op runs back to back `reps` times on the backend's stream and the stream is
// drained once (ReadToHost of one element), so a figure includes the launch gap between
// kernels as a decode step sees it. Weights rotate over enough copies to exceed the
// 50 MB L2, so GEMV figures are DRAM figures. Prints a table; --json adds one object.
//   usage: bench_cuda_ops [--reps N] [--json FILE] [--no-matmuls]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "cuda/bench_util.h"
#include "cuda/staged_batch.h"
#include "tensor/dtype.h"

namespace ax {
namespace {

struct Row {
  std::string op;
  double us = 0, bytes = 0, flops = 0;
};

TensorView Upload(Backend& be, int64_t n, DType dt, const Shape& shape, float value_scale = 0.02f) {
  return bench::Upload(be, n, dt, shape, value_scale, 12345u);
}

using bench::TimeOp;

using cuda_testing::StagedBatch;

// n tokens of one sequence ending at position last (a decode step: n = 1).
StagedBatch OneSeq(int n, int last, int block_size, int blocks) {
  StagedBatch m;
  for (int t = 0; t < n; ++t) {
    m.tokens.push_back(t % 1000);
    m.positions.push_back(last - n + 1 + t);
    m.slots.push_back(last - n + 1 + t);
  }
  m.q_len = {n};
  for (int b = 0; b < blocks; ++b) m.tables.push_back(b);
  m.logit_rows = {n - 1};
  (void)block_size;
  return m;
}

int Run(int reps, const char* json_path, bool skip_matmuls) {
  auto created = CreateBackend("cuda", BackendOptions{});
  if (!created.ok()) {
    std::fprintf(stderr, "%s\n", created.status().ToString().c_str());
    return 1;
  }
  Backend& be = **created;
  const int64_t hidden = 4096, inter = 12288, nq = 32, nkv = 8, hd = 128, vocab = 151936;
  const int bs = 16, ctx = 1024, kv_blocks = ctx / bs;
  std::vector<Row> rows;
  TensorView sync = Upload(be, 8, DType::kBF16, Shape{8});

  // ---- matmuls ----
  struct Mm {
    const char* name;
    int64_t n, k;
    bool f32_out;
  };
  const Mm mms[] = {{"q_proj/o_proj 4096x4096", 4096, 4096, false}, {"k_proj/v_proj 1024x4096", 1024, 4096, false},
                    {"gate_up 24576x4096", 24576, 4096, false},        {"down 4096x12288", 4096, 12288, false},
                    {"lm_head 151936x4096 (f32 out)", vocab, 4096, true}};
  for (const Mm& mm : mms) {
    if (skip_matmuls) break;
    const double wbytes = static_cast<double>(mm.n) * mm.k * 2;
    const int copies = static_cast<int>(std::max(1.0, std::ceil(160e6 / wbytes)));
    std::vector<TensorView> ws;
    for (int c = 0; c < copies; ++c) ws.push_back(Upload(be, mm.n * mm.k, DType::kBF16, Shape{mm.n, mm.k}));
    for (int64_t m : {1, 5, 128, 512}) {
      TensorView x = Upload(be, m * mm.k, DType::kBF16, Shape{m, mm.k}, 1.0f);
      TensorView y = Upload(be, m * mm.n, mm.f32_out ? DType::kF32 : DType::kBF16, Shape{m, mm.n});
      const int r = m >= 128 ? std::max(5, reps / 10) : reps;
      const double us = TimeOp(be, sync, r, [&](int i) { be.Matmul(x, ws[static_cast<size_t>(i % copies)], y, false, x.shape[0]); });
      rows.push_back({"matmul m=" + std::to_string(m) + " " + mm.name, us, wbytes, 2.0 * m * mm.n * mm.k});
    }
  }

  // q, k and v of one input in one launch (MatmulGroup) vs the three Matmul calls.
  if (!skip_matmuls) {
    const int copies = 4;  // 4 x 50 MB of weights rotate past the L2
    std::vector<std::vector<TensorView>> ws(copies);
    for (auto& w : ws) {
      w.push_back(Upload(be, nq * hd * hidden, DType::kBF16, Shape{nq * hd, hidden}));
      for (int i = 0; i < 2; ++i) w.push_back(Upload(be, nkv * hd * hidden, DType::kBF16, Shape{nkv * hd, hidden}));
    }
    const double wbytes = 2.0 * (nq + 2 * nkv) * hd * hidden;
    for (int64_t m : {1, 5}) {
      TensorView x = Upload(be, m * hidden, DType::kBF16, Shape{m, hidden}, 1.0f);
      const std::vector<TensorView> ys = {Upload(be, m * nq * hd, DType::kBF16, Shape{m, nq * hd}),
                                          Upload(be, m * nkv * hd, DType::kBF16, Shape{m, nkv * hd}),
                                          Upload(be, m * nkv * hd, DType::kBF16, Shape{m, nkv * hd})};
      const double fused = TimeOp(be, sync, reps, [&](int i) { be.MatmulGroup(x, ws[i % copies], ys, 0); });
      const double separate = TimeOp(be, sync, reps, [&](int i) {
        for (int j = 0; j < 3; ++j) be.Matmul(x, ws[i % copies][j], ys[j], false, 0);
      });
      rows.push_back({"matmul group m=" + std::to_string(m) + " q/k/v one launch", fused, wbytes, 0});
      rows.push_back({"matmul group m=" + std::to_string(m) + " q/k/v three launches", separate, wbytes, 0});
    }
  }

  // gate/up GEMV with SiLU in its epilogue (MatmulGatedAct) vs Matmul then GatedAct.
  if (!skip_matmuls) {
    const int copies = 2;  // 2 x 201 MB
    std::vector<TensorView> ws;
    for (int c = 0; c < copies; ++c) {
      ws.push_back(Upload(be, 2 * inter * hidden, DType::kBF16, Shape{2 * inter, hidden}));
    }
    const double wbytes = 2.0 * 2 * inter * hidden;
    TensorView x = Upload(be, hidden, DType::kBF16, Shape{1, hidden}, 1.0f);
    TensorView gu = Upload(be, 2 * inter, DType::kBF16, Shape{1, 2 * inter});
    TensorView act = Upload(be, inter, DType::kBF16, Shape{1, inter});
    rows.push_back({"matmul m=1 gate_up + silu fused", TimeOp(be, sync, reps, [&](int i) {
                      be.MatmulGatedAct(x, ws[static_cast<size_t>(i % copies)], gu, act, GateAct::kSilu, 0);
                    }), wbytes, 0});
    rows.push_back({"matmul m=1 gate_up, then silu", TimeOp(be, sync, reps, [&](int i) {
                      be.Matmul(x, ws[static_cast<size_t>(i % copies)], gu, false, 0);
                      be.GatedAct(gu, act, GateAct::kSilu);
                    }), wbytes, 0});
  }

  // ---- elementwise ----
  StagedBatch dec = OneSeq(1, 639, bs, kv_blocks);
  if (!be.BeginForward(dec.meta()).ok()) return 1;
  TensorView norm_w = Upload(be, hidden, DType::kF32, Shape{hidden}, 1.0f);
  TensorView head_w = Upload(be, hd, DType::kF32, Shape{hd}, 1.0f);
  TensorView inv = Upload(be, hd / 2, DType::kF32, Shape{hd / 2}, 0.5f);
  TensorView x1 = Upload(be, hidden, DType::kBF16, Shape{1, hidden}, 1.0f);
  TensorView q1 = Upload(be, nq * hd, DType::kBF16, Shape{1, nq * hd}, 1.0f);
  TensorView k1 = Upload(be, nkv * hd, DType::kBF16, Shape{1, nkv * hd}, 1.0f);
  TensorView gu1 = Upload(be, 2 * inter, DType::kBF16, Shape{1, 2 * inter}, 1.0f);
  TensorView act1 = Upload(be, inter, DType::kBF16, Shape{1, inter}, 1.0f);
  KvLayerView cache;
  cache.block_size = bs;
  cache.k = Upload(be, kv_blocks * bs * nkv * hd, DType::kBF16, Shape{kv_blocks, bs, nkv, hd}, 1.0f);
  cache.v = Upload(be, kv_blocks * bs * nkv * hd, DType::kBF16, Shape{kv_blocks, bs, nkv, hd}, 1.0f);
  TensorView embed = Upload(be, 1000 * hidden, DType::kBF16, Shape{1000, hidden});
  rows.push_back({"embedding m=1", TimeOp(be, sync, reps, [&](int) { be.Embedding(embed, 1.0f, x1); })});
  rows.push_back({"rmsnorm m=1 d=4096", TimeOp(be, sync, reps, [&](int) { be.RmsNorm(x1, norm_w, 1e-6f, x1); })});
  rows.push_back({"q_norm m=32 d=128", TimeOp(be, sync, reps, [&](int) { be.RmsNorm(q1, head_w, 1e-6f, q1); })});
  rows.push_back({"rope q 32 heads", TimeOp(be, sync, reps, [&](int) { be.Rope(q1, nq, hd, inv); })});
  rows.push_back({"kv_write 1 token", TimeOp(be, sync, reps, [&](int) { be.KvWrite(k1, k1, cache, nkv, hd); })});
  rows.push_back({"attention input fused (q/k norm, rope, kv) 1 token",
                  TimeOp(be, sync, reps, [&](int) {
                    be.AttentionInput(q1, k1, k1, head_w, head_w, inv, cache, AttentionShape{nq, nkv, hd, 0, 1.0f, 0.0f, 1e-6f});
                  })});
  rows.push_back({"silu_mul m=1 f=12288", TimeOp(be, sync, reps, [&](int) { be.GatedAct(gu1, act1, GateAct::kSilu); })});
  for (int pos : {127, 639}) {
    StagedBatch d = OneSeq(1, pos, bs, kv_blocks);
    if (!be.BeginForward(d.meta()).ok()) return 1;
    TensorView out = Upload(be, nq * hd, DType::kBF16, Shape{1, nq * hd});
    rows.push_back({"attention decode pos " + std::to_string(pos),
                    TimeOp(be, sync, reps, [&](int) { be.Attention(q1, cache, AttentionShape{nq, nkv, hd, 0, 0.088f}, out); })});
  }
  // ---- a batched decode step's per-row ops: c sequences, one generated token each ----
  // (the serving sweep's c32/c128 steps; each sequence has its own blocks).
  for (int c : {32, 128}) {
    TensorView xc = Upload(be, c * hidden, DType::kBF16, Shape{c, hidden}, 1.0f);
    TensorView rc = Upload(be, c * hidden, DType::kBF16, Shape{c, hidden}, 1.0f);
    TensorView qc = Upload(be, c * nq * hd, DType::kBF16, Shape{c, nq * hd}, 1.0f);
    TensorView kc = Upload(be, c * nkv * hd, DType::kBF16, Shape{c, nkv * hd}, 1.0f);
    TensorView guc = Upload(be, c * 2 * inter, DType::kBF16, Shape{c, 2 * inter}, 1.0f);
    TensorView actc = Upload(be, c * inter, DType::kBF16, Shape{c, inter}, 1.0f);
    TensorView outc = Upload(be, c * nq * hd, DType::kBF16, Shape{c, nq * hd});
    for (int pos : {191, 639}) {
      const int per_seq = (pos + bs) / bs, blocks = c * per_seq;
      KvLayerView cc;
      cc.block_size = bs;
      cc.k = Upload(be, int64_t{blocks} * bs * nkv * hd, DType::kBF16, Shape{blocks, bs, nkv, hd}, 1.0f);
      cc.v = Upload(be, int64_t{blocks} * bs * nkv * hd, DType::kBF16, Shape{blocks, bs, nkv, hd}, 1.0f);
      StagedBatch d;
      for (int s = 0; s < c; ++s) {
        d.tokens.push_back(s);
        d.positions.push_back(pos);
        d.slots.push_back((s * per_seq + pos / bs) * bs + pos % bs);
        if (s > 0) d.q_begin.push_back(s);
        d.q_len.push_back(1);
        d.logit_rows.push_back(s);
        for (int b = 0; b < per_seq; ++b) d.tables.push_back(s * per_seq + b);
      }
      if (!be.BeginForward(d.meta()).ok()) return 1;
      const std::string tag = " c=" + std::to_string(c) + " pos " + std::to_string(pos);
      const double kv_bytes = 2.0 * c * (pos + 1) * nkv * hd * 2;
      rows.push_back({"attention decode" + tag,
                      TimeOp(be, sync, reps, [&](int) { be.Attention(qc, cc, AttentionShape{nq, nkv, hd, 0, 0.088f}, outc); }),
                      kv_bytes, 0});
      if (pos != 191) continue;
      rows.push_back({"attention input fused" + tag, TimeOp(be, sync, reps, [&](int) {
                        be.AttentionInput(qc, kc, kc, head_w, head_w, inv, cc, AttentionShape{nq, nkv, hd, 0, 1.0f, 0.0f, 1e-6f});
                      })});
      rows.push_back({"rmsnorm d=4096" + tag, TimeOp(be, sync, reps, [&](int) { be.RmsNorm(xc, norm_w, 1e-6f, xc); })});
      rows.push_back({"residual add d=4096" + tag, TimeOp(be, sync, reps, [&](int) { be.Add(xc, rc); })});
      rows.push_back({"silu_mul f=12288" + tag, TimeOp(be, sync, reps, [&](int) { be.GatedAct(guc, actc, GateAct::kSilu); })});
    }
  }
  // ---- prefill attention ----
  for (int n : {128, 512}) {
    StagedBatch p = OneSeq(n, n - 1, bs, kv_blocks);
    p.prefill_rows = n;
    if (!be.BeginForward(p.meta()).ok()) return 1;
    TensorView qn = Upload(be, n * nq * hd, DType::kBF16, Shape{n, nq * hd}, 1.0f);
    TensorView out = Upload(be, n * nq * hd, DType::kBF16, Shape{n, nq * hd});
    const double flops = 4.0 * nq * hd * (static_cast<double>(n) * (n + 1) / 2);
    rows.push_back({"attention prefill " + std::to_string(n),
                    TimeOp(be, sync, std::max(5, reps / 10),
                           [&](int) { be.Attention(qn, cache, AttentionShape{nq, nkv, hd, 0, 0.088f}, out); }),
                    0, flops});
  }

  std::printf("%-46s %10s %10s %10s\n", "op", "us", "GB/s", "TFLOP/s");
  for (const Row& r : rows) {
    std::printf("%-46s %10.2f %10.0f %10.1f\n", r.op.c_str(), r.us, r.bytes / r.us / 1e3, r.flops / r.us / 1e6);
  }
  if (json_path != nullptr) {
    FILE* f = std::fopen(json_path, "w");
    if (f == nullptr) return 1;
    std::fprintf(f, "{\"backend\": \"%s\", \"reps\": %d, \"rows\": [\n", be.Describe().c_str(), reps);
    for (size_t i = 0; i < rows.size(); ++i) {
      std::fprintf(f, "  {\"op\": \"%s\", \"us\": %.3f, \"weight_bytes\": %.0f, \"flops\": %.0f}%s\n",
                   rows[i].op.c_str(), rows[i].us, rows[i].bytes, rows[i].flops, i + 1 < rows.size() ? "," : "");
    }
    std::fprintf(f, "]}\n");
    std::fclose(f);
  }
  return 0;
}

}  // namespace
}  // namespace ax

int main(int argc, char** argv) {
  int reps = 200;
  const char* json = nullptr;
  bool skip_matmuls = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--no-matmuls") == 0) skip_matmuls = true;
    if (i + 1 >= argc) break;
    if (std::strcmp(argv[i], "--reps") == 0) reps = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--json") == 0) json = argv[i + 1];
  }
  return ax::Run(reps, json, skip_matmuls);
}
